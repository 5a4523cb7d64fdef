// Recur's use of MPI through plain C types. MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_Request)
// are implementation-specific macros and types (pointers in Open MPI, integers in MPICH), so Swift never
// sees them: every call goes through these functions, which use only the standard C API.
#ifndef RECUR_MPI_H
#define RECUR_MPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Initialises MPI (MPI_THREAD_FUNNELED) unless already done; returns 0 on success. Errors on
/// MPI_COMM_WORLD are made to return instead of aborting.
int recur_mpi_init(void);
/// Whether MPI_Init has been called and MPI_Finalize has not.
int recur_mpi_is_initialized(void);
int recur_mpi_rank(void);
int recur_mpi_size(void);
/// MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM) over MPI_COMM_WORLD; returns 0 on success.
int recur_mpi_allreduce_sum_float(float *values, size_t count);
int recur_mpi_allreduce_sum_double(double *values, size_t count);
/// MPI_Iallreduce(MPI_IN_PLACE, ..., MPI_SUM): starts a reduction and returns a request id ≥ 0 (or −1).
/// recur_mpi_wait completes it; the buffer must not be touched in between.
int recur_mpi_iallreduce_sum_float(float *values, size_t count);
int recur_mpi_iallreduce_sum_double(double *values, size_t count);
int recur_mpi_wait(int request);
/// MPI_Test on a started reduction: lets MPI progress it (Open MPI advances non-blocking collectives only
/// inside MPI calls); the request stays outstanding until recur_mpi_wait. Returns 1 when it has completed.
int recur_mpi_test(int request);
/// MPI_Bcast of bytes from `root`.
int recur_mpi_broadcast(void *bytes, size_t count, int root);
int recur_mpi_barrier(void);
/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank.
void recur_mpi_abort(int code);
int recur_mpi_finalize(void);
/// A readable message for an MPI error code, written into `buffer`.
void recur_mpi_error_string(int code, char *buffer, int length);
/// MPI_Wtime.
double recur_mpi_wtime(void);

#ifdef __cplusplus
}
#endif

#endif

#include "recur_mpi.h"

#include <limits.h>
#include <string.h>

// `swift build` compiles every target of the package, this one too, on machines without MPI; only the MPI
// trait links it into Recur. Without <mpi.h> every function reports failure.
#if __has_include(<mpi.h>)
#include <mpi.h>

// Large buffers are reduced in pieces of at most INT_MAX elements (MPI counts are int).
#define RECUR_MPI_PIECE ((size_t)1 << 30)

int recur_mpi_init(void) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return 0;
  int provided = 0;
  int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
  if (rc != MPI_SUCCESS) return rc;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return 0;
}

int recur_mpi_is_initialized(void) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

int recur_mpi_rank(void) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int recur_mpi_size(void) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

static int allreduce(void *values, size_t count, MPI_Datatype type, size_t width) {
  char *p = (char *)values;
  while (count > 0) {
    size_t n = count < RECUR_MPI_PIECE ? count : RECUR_MPI_PIECE;
    int rc = MPI_Allreduce(MPI_IN_PLACE, p, (int)n, type, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    p += n * width;
    count -= n;
  }
  return 0;
}

int recur_mpi_allreduce_sum_float(float *values, size_t count) {
  return allreduce(values, count, MPI_FLOAT, sizeof(float));
}

int recur_mpi_allreduce_sum_double(double *values, size_t count) {
  return allreduce(values, count, MPI_DOUBLE, sizeof(double));
}

// A small table of outstanding requests, so that Swift holds plain integers.
#define RECUR_MPI_REQUESTS 64
static MPI_Request requests[RECUR_MPI_REQUESTS];
static int request_used[RECUR_MPI_REQUESTS];

static int iallreduce(void *values, size_t count, MPI_Datatype type) {
  if (count > (size_t)INT_MAX) return -1;
  for (int i = 0; i < RECUR_MPI_REQUESTS; i++) {
    if (request_used[i]) continue;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, (int)count, type, MPI_SUM, MPI_COMM_WORLD, &requests[i]);
    if (rc != MPI_SUCCESS) return -1;
    request_used[i] = 1;
    return i;
  }
  return -1;
}

int recur_mpi_iallreduce_sum_float(float *values, size_t count) { return iallreduce(values, count, MPI_FLOAT); }
int recur_mpi_iallreduce_sum_double(double *values, size_t count) { return iallreduce(values, count, MPI_DOUBLE); }

int recur_mpi_wait(int request) {
  if (request < 0 || request >= RECUR_MPI_REQUESTS || !request_used[request]) return -1;
  int rc = MPI_Wait(&requests[request], MPI_STATUS_IGNORE);
  request_used[request] = 0;
  return rc == MPI_SUCCESS ? 0 : rc;
}

int recur_mpi_test(int request) {
  if (request < 0 || request >= RECUR_MPI_REQUESTS || !request_used[request]) return 0;
  int done = 0;
  // A completed request becomes MPI_REQUEST_NULL, which recur_mpi_wait then completes at once.
  MPI_Test(&requests[request], &done, MPI_STATUS_IGNORE);
  return done;
}

int recur_mpi_broadcast(void *bytes, size_t count, int root) {
  char *p = (char *)bytes;
  while (count > 0) {
    size_t n = count < RECUR_MPI_PIECE ? count : RECUR_MPI_PIECE;
    int rc = MPI_Bcast(p, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    p += n;
    count -= n;
  }
  return 0;
}

int recur_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

void recur_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int recur_mpi_finalize(void) {
  if (!recur_mpi_is_initialized()) return 0;
  return MPI_Finalize();
}

void recur_mpi_error_string(int code, char *buffer, int length) {
  if (length <= 0) return;
  char message[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(code, message, &n) != MPI_SUCCESS) n = 0;
  message[n < MPI_MAX_ERROR_STRING ? n : MPI_MAX_ERROR_STRING - 1] = 0;
  strncpy(buffer, message, (size_t)length - 1);
  buffer[length - 1] = 0;
}

double recur_mpi_wtime(void) { return MPI_Wtime(); }

#else

#define RECUR_NO_MPI (-1)
int recur_mpi_init(void) { return RECUR_NO_MPI; }
int recur_mpi_is_initialized(void) { return 0; }
int recur_mpi_rank(void) { return 0; }
int recur_mpi_size(void) { return 1; }
int recur_mpi_allreduce_sum_float(float *values, size_t count) { (void)values; (void)count; return RECUR_NO_MPI; }
int recur_mpi_allreduce_sum_double(double *values, size_t count) { (void)values; (void)count; return RECUR_NO_MPI; }
int recur_mpi_iallreduce_sum_float(float *values, size_t count) { (void)values; (void)count; return -1; }
int recur_mpi_iallreduce_sum_double(double *values, size_t count) { (void)values; (void)count; return -1; }
int recur_mpi_wait(int request) { (void)request; return RECUR_NO_MPI; }
int recur_mpi_test(int request) { (void)request; return 0; }
int recur_mpi_broadcast(void *bytes, size_t count, int root) { (void)bytes; (void)count; (void)root; return RECUR_NO_MPI; }
int recur_mpi_barrier(void) { return RECUR_NO_MPI; }
void recur_mpi_abort(int code) { (void)code; }
int recur_mpi_finalize(void) { return 0; }
void recur_mpi_error_string(int code, char *buffer, int length) {
  (void)code;
  if (length <= 0) return;
  strncpy(buffer, "this build found no <mpi.h> (install libopenmpi-dev or MPICH)", (size_t)length - 1);
  buffer[length - 1] = 0;
}
double recur_mpi_wtime(void) { return 0; }

#endif

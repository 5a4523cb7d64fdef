// The MPI C API, for the optional MPI build (`--traits MPI`). Without an MPI installed (no <mpi.h>) the module
// is empty; only the MPI trait uses it.
#if __has_include(<mpi.h>)
#include <mpi.h>
#endif

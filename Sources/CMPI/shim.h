// The MPI C API, for the optional MPI build (`--traits MPI`).
#include <mpi.h>

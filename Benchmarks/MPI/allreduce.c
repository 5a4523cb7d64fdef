// MPI_Allreduce (sum, in place, float) of the sizes data-parallel training reduces: the median time of 30
// repetitions after 5 warm-ups, per size, printed by rank 0 as one line each:
//   bytes  median_seconds  bus_bandwidth_GBps (2(N−1)/N · bytes / time, the ring algorithm's traffic per rank)
// Build and run: mpicc -O2 -o allreduce allreduce.c && mpirun -np 2 ./allreduce [bytes ...]
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long defaults[] = {4096, 65536, 1048576, 13369344, 67108864};
  int count = argc > 1 ? argc - 1 : (int)(sizeof defaults / sizeof defaults[0]);
  enum { WARM = 5, REPS = 30 };
  for (int s = 0; s < count; s++) {
    long bytes = argc > 1 ? atol(argv[s + 1]) : defaults[s];
    long n = bytes / (long)sizeof(float);
    float *buffer = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) buffer[i] = (float)(i % 7) * 0.5f;
    double times[REPS];
    for (int r = 0; r < WARM + REPS; r++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      double t = MPI_Wtime() - t0;
      // The slowest rank's time.
      MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      if (r >= WARM) times[r - WARM] = t;
    }
    qsort(times, REPS, sizeof(double), compare);
    double median = (times[REPS / 2 - 1] + times[REPS / 2]) / 2;
    if (rank == 0) {
      printf("%ld %.6g %.3f\n", bytes, median, 2.0 * (size - 1) / size * (double)bytes / median / 1e9);
    }
    free(buffer);
  }
  MPI_Finalize();
  return 0;
}

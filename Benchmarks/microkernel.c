// Measures, on one thread, how close the AVX2 SGEMM gets to the core's peak: a pure FMA loop (the peak:
// 2 FMA units x 8 lanes x 2 FLOP = 32 FLOP per cycle), the 6 x 16 micro-kernel on packed panels in L1,
// and whole products of the bench shapes. Times are thread CPU time, so other processes on a shared
// machine do not count against it (cache sharing still does). The peak and the micro-kernel are the best
// of 8 rounds; the products are the median of 8 rounds, like `recur bench`.
//
//   clang -O2 -I Sources/_RecurKernels/include Benchmarks/microkernel.c -lm -o /tmp/microkernel
//   /tmp/microkernel
#include "../Sources/_RecurKernels/avx2.c"
#include <stdio.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"))) static float fma_loop(long iterations) {
  __m256 c[12];
  for (int i = 0; i < 12; i++) c[i] = _mm256_set1_ps((float)i);
  __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (long i = 0; i < iterations; i++) {
    for (int j = 0; j < 12; j++) c[j] = _mm256_fmadd_ps(a, c[j], b);
    __asm__ volatile("" : "+x"(c[0]), "+x"(c[1]), "+x"(c[2]), "+x"(c[3]), "+x"(c[4]), "+x"(c[5]), "+x"(c[6]),
                     "+x"(c[7]), "+x"(c[8]), "+x"(c[9]), "+x"(c[10]), "+x"(c[11]));
  }
  float sum = 0, lanes[8];
  for (int j = 0; j < 12; j++) {
    _mm256_storeu_ps(lanes, c[j]);
    sum += lanes[0];
  }
  return sum;
}

int main(void) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    printf("this CPU has no AVX2+FMA\n");
    return 0;
  }
  double peak = 0, micro = 0;
  long kc = 256;
  float *ap = aligned_alloc(64, (size_t)kc * 6 * 4), *bp = aligned_alloc(64, (size_t)kc * 16 * 4);
  _Alignas(64) float acc[96];
  for (long i = 0; i < kc * 6; i++) ap[i] = 1e-3f * (float)i;
  for (long i = 0; i < kc * 16; i++) bp[i] = 1e-3f * (float)i;
  for (int round = 0; round < 8; round++) {
    long iterations = 10000000;
    double t0 = cpu_seconds();
    volatile float sink = fma_loop(iterations);
    (void)sink;
    double g = (double)iterations * 12 * 16 / (cpu_seconds() - t0) / 1e9;
    if (g > peak) peak = g;
    long calls = 20000;
    t0 = cpu_seconds();
    for (long r = 0; r < calls; r++) {
      micro_6x16(kc, ap, bp, acc);
      __asm__ volatile("" ::"r"(acc) : "memory");
    }
    g = (double)calls * 2.0 * 6 * 16 * (double)kc / (cpu_seconds() - t0) / 1e9;
    if (g > micro) micro = g;
  }
  printf("peak (FMA loop)          %6.1f GFLOP/s  (%.2f GHz x 32 FLOP/cycle)\n", peak, peak / 32);
  printf("micro-kernel 6x16, L1    %6.1f GFLOP/s  %5.1f%% of peak\n", micro, 100 * micro / peak);
  long shapes[][3] = {{1024, 1024, 1024}, {32, 512, 2048}, {64, 1024, 4096}, {2048, 512, 2048}, {1, 512, 2048}};
  for (int s = 0; s < 5; s++) {
    long m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
    float *a = malloc((size_t)(m * k) * 4), *b = malloc((size_t)(k * n) * 4), *c = malloc((size_t)(m * n) * 4);
    for (long i = 0; i < m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    for (int tb = 0; tb < 2; tb++) {
      k_gemm_slice(0, tb, m, n, k, 1, a, k, b, tb ? k : n, 0, c, n, 0, m, 0, n);
      double speeds[8];
      int reps = (int)(4e8 / (2.0 * (double)(m * n * k))) + 1;
      for (int round = 0; round < 8; round++) {
        double t0 = cpu_seconds();
        for (int r = 0; r < reps; r++) k_gemm_slice(0, tb, m, n, k, 1, a, k, b, tb ? k : n, 0, c, n, 0, m, 0, n);
        double g = reps * 2.0 * (double)(m * n * k) / (cpu_seconds() - t0) / 1e9;
        int at = round;  // insertion sort
        while (at > 0 && speeds[at - 1] > g) {
          speeds[at] = speeds[at - 1];
          at--;
        }
        speeds[at] = g;
      }
      double median = (speeds[3] + speeds[4]) / 2;
      printf("gemm-%ldx%ldx%ld-%s %*s%6.1f GFLOP/s  %5.1f%% of peak\n", m, k, n, tb ? "nt" : "nn",
             (int)(14 - snprintf(NULL, 0, "%ldx%ldx%ld", m, k, n)), "", median, 100 * median / peak);
    }
    free(a);
    free(b);
    free(c);
  }
  return 0;
}

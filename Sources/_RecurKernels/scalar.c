// Instantiates the scalar kernels in single precision (the twins of the vectorized kernels) and in
// double precision (for gradient checks).
#include "kernels_internal.h"
#include <math.h>

#define T float
#define NAME(x) recur_##x##_f32_scalar
#define EXP expf
#define TANH tanhf
#define SQRT sqrtf
#define FMA fmaf
#include "scalar_template.h"
#undef T
#undef NAME
#undef EXP
#undef TANH
#undef SQRT
#undef FMA

#define T double
#define NAME(x) recur_##x##_f64
#define EXP exp
#define TANH tanh
#define SQRT sqrt
#define FMA fma
#include "scalar_template.h"

// The BLAS-style names of the scalar GEMM and GEMV.
void recur_sgemm_scalar(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                        long lda, const float *b, long ldb, float beta, float *c, long ldc) {
  recur_gemm_f32_scalar(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void recur_dgemm(int trans_a, int trans_b, long m, long n, long k, double alpha, const double *a, long lda,
                 const double *b, long ldb, double beta, double *c, long ldc) {
  recur_gemm_f64(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void recur_sgemv_scalar(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                        float beta, float *y) {
  recur_gemv_f32_scalar(trans_a, m, n, alpha, a, lda, x, beta, y);
}
void recur_dgemv(int trans_a, long m, long n, double alpha, const double *a, long lda, const double *x,
                 double beta, double *y) {
  recur_gemv_f64(trans_a, m, n, alpha, a, lda, x, beta, y);
}

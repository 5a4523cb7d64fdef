// Chooses, once, the version of each single-precision kernel for this CPU, and holds the thread-count
// setting of the parallel GEMM.
#include "kernels_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

// MARK: - The scalar table

static void scalar_gemm_slice(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                              long lda, const float *b, long ldb, float beta, float *c, long ldc, long i0, long i1,
                              long j0, long j1) {
  (void)m;
  (void)n;
  if (i0 >= i1 || j0 >= j1) return;
  const float *as = trans_a ? a + i0 : a + i0 * lda;
  const float *bs = trans_b ? b + j0 * ldb : b + j0;
  recur_sgemm_scalar(trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, as, lda, bs, ldb, beta, c + i0 * ldc + j0,
                     ldc);
}

// The scalar "packed" B is op(B) copied as a plain K x N matrix.
static long scalar_packed_b_size(long n, long k) { return (n > 0 ? n : 1) * (k > 0 ? k : 1); }

static void scalar_pack_b_whole(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
  for (long p = 0; p < k; p++)
    for (long j = 0; j < n; j++) packed[p * n + j] = trans_b ? b[j * ldb + p] : b[p * ldb + j];
}

static void scalar_gemm_packed_slice(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                                     const float *packed, float beta, float *c, long ldc, long i0, long i1,
                                     long j0, long j1) {
  scalar_gemm_slice(trans_a, 0, m, n, k, alpha, a, lda, packed, n, beta, c, ldc, i0, i1, j0, j1);
}

static const recur_f32_kernels scalar_kernels = {
    .activate = recur_activate_f32_scalar,
    .activate_backward = recur_activate_backward_f32_scalar,
    .gemm_slice = scalar_gemm_slice,
    .packed_b_size = scalar_packed_b_size,
    .pack_b_whole = scalar_pack_b_whole,
    .gemm_packed_slice = scalar_gemm_packed_slice,
    .gemv = recur_sgemv_scalar,
    .add_row_vector = recur_add_row_vector_f32_scalar,
    .sum_rows = recur_sum_rows_f32_scalar,
    .rnn_forward = recur_rnn_forward_f32_scalar,
    .rnn_backward = recur_rnn_backward_f32_scalar,
    .gated_forward = recur_gated_forward_f32_scalar,
    .gated_backward = recur_gated_backward_f32_scalar,
    .lstm_forward = recur_lstm_forward_f32_scalar,
    .lstm_backward = recur_lstm_backward_f32_scalar,
    .gru_forward = recur_gru_forward_f32_scalar,
    .gru_backward = recur_gru_backward_f32_scalar,
    .softmax = recur_softmax_f32_scalar,
    .softmax_xent = recur_softmax_xent_f32_scalar,
    .adam = recur_adam_f32_scalar,
};

// MARK: - Choosing once

static const recur_f32_kernels *active_kernels = &scalar_kernels;
static recur_isa active_isa = RECUR_ISA_SCALAR;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void) {
  const char *forced = getenv("RECUR_ISA");
  if (forced && strcmp(forced, "scalar") == 0) return;
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    active_kernels = &recur_avx2_kernels;
    active_isa = RECUR_ISA_AVX2;
  }
#elif defined(__aarch64__)
  active_kernels = &recur_neon_kernels;
  active_isa = RECUR_ISA_NEON;
#endif
}

static inline const recur_f32_kernels *K(void) {
  pthread_once(&choose_once, choose);
  return active_kernels;
}

recur_isa recur_active_isa(void) {
  pthread_once(&choose_once, choose);
  return active_isa;
}

const char *recur_isa_name(void) {
  switch (recur_active_isa()) {
  case RECUR_ISA_AVX2: return "avx2+fma";
  case RECUR_ISA_NEON: return "neon";
  default: return "scalar";
  }
}

// MARK: - Threads

static atomic_long thread_setting = 0;  // 0: not yet read from the environment

static long default_threads(void) {
  const char *env = getenv("RECUR_THREADS");
  if (env) {
    long t = strtol(env, NULL, 10);
    if (t >= 1) return t;
  }
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    long t = CPU_COUNT(&set);
    if (t >= 1) return t;
  }
#endif
  long t = sysconf(_SC_NPROCESSORS_ONLN);
  return t >= 1 ? t : 1;
}

long recur_thread_count(void) {
  long t = atomic_load(&thread_setting);
  if (t > 0) return t;
  long expected = 0;
  atomic_compare_exchange_strong(&thread_setting, &expected, default_threads());
  return atomic_load(&thread_setting);
}

void recur_set_thread_count(long threads) { atomic_store(&thread_setting, threads >= 1 ? threads : 1); }

// MARK: - GEMM split into parts

// Slices are whole multiples of this many rows or columns (a multiple of every register tile).
#define RECUR_SLICE_GRAIN 48
// Products with fewer multiply-adds than this stay on one thread.
#define RECUR_PARALLEL_MIN_FLOPS (1L << 21)

long recur_sgemm_parallel_parts(long m, long n, long k, long threads) {
  if (threads <= 1 || m <= 0 || n <= 0) return 1;
  if ((double)m * (double)n * (double)(k > 0 ? k : 1) < (double)RECUR_PARALLEL_MIN_FLOPS) return 1;
  long extent = m >= n ? m : n;
  long grains = (extent + RECUR_SLICE_GRAIN - 1) / RECUR_SLICE_GRAIN;
  return grains < threads ? grains : threads;
}

void recur_sgemm_part(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc, long part, long parts) {
  if (m <= 0 || n <= 0 || parts < 1 || part < 0 || part >= parts) return;
  // Split the longer side of C; the shape alone decides, so every part count computes the same values.
  int split_rows = m >= n;
  long extent = split_rows ? m : n;
  long grains = (extent + RECUR_SLICE_GRAIN - 1) / RECUR_SLICE_GRAIN;
  long first = grains * part / parts * RECUR_SLICE_GRAIN, last = grains * (part + 1) / parts * RECUR_SLICE_GRAIN;
  if (last > extent) last = extent;
  if (first >= last) return;
  if (split_rows)
    K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, first, last, 0, n);
  else
    K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, first, last);
}

// MARK: - GEMM with B packed once

long recur_sgemm_packed_b_size(long n, long k) { return K()->packed_b_size(n, k); }

void recur_sgemm_pack_b(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
  if (n <= 0) return;
  K()->pack_b_whole(trans_b, n, k, b, ldb, packed);
}

void recur_sgemm_packed(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *packed, float beta, float *c, long ldc) {
  if (m <= 0 || n <= 0) return;
  K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, 0, m, 0, n);
}

void recur_sgemm_packed_part(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                             const float *packed, float beta, float *c, long ldc, long part, long parts) {
  if (m <= 0 || n <= 0 || parts < 1 || part < 0 || part >= parts) return;
  // The same split as recur_sgemm_part: RECUR_SLICE_GRAIN is a multiple of every register tile width.
  int split_rows = m >= n;
  long extent = split_rows ? m : n;
  long grains = (extent + RECUR_SLICE_GRAIN - 1) / RECUR_SLICE_GRAIN;
  long first = grains * part / parts * RECUR_SLICE_GRAIN, last = grains * (part + 1) / parts * RECUR_SLICE_GRAIN;
  if (last > extent) last = extent;
  if (first >= last) return;
  if (split_rows)
    K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, first, last, 0, n);
  else
    K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, 0, m, first, last);
}

// MARK: - Dispatching entry points

void recur_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                 const float *b, long ldb, float beta, float *c, long ldc) {
  if (m <= 0 || n <= 0) return;
  K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, 0, n);
}
void recur_sgemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x, float beta,
                 float *y) {
  K()->gemv(trans_a, m, n, alpha, a, lda, x, beta, y);
}
void recur_activate_f32(long n, recur_activation act, const float *x, float *y) { K()->activate(n, act, x, y); }
void recur_activate_backward_f32(long n, recur_activation act, const float *y, const float *dy, float *dx) {
  K()->activate_backward(n, act, y, dy, dx);
}
void recur_add_row_vector_f32(long rows, long width, const float *bias, float beta, float *c, long ldc) {
  K()->add_row_vector(rows, width, bias, beta, c, ldc);
}
void recur_sum_rows_f32(long rows, long width, const float *a, long lda, float *out) {
  K()->sum_rows(rows, width, a, lda, out);
}
void recur_rnn_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                           float *h) {
  K()->rnn_forward(batch, hidden, act, xp, hp, h);
}
void recur_rnn_backward_f32(long batch, long hidden, recur_activation act, const float *h, const float *dh,
                            float *dpre) {
  K()->rnn_backward(batch, hidden, act, h, dh, dpre);
}
void recur_gated_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                             const float *h_prev, float *h, float *cache) {
  K()->gated_forward(batch, hidden, act, xp, hp, h_prev, h, cache);
}
void recur_gated_backward_f32(long batch, long hidden, recur_activation act, const float *cache,
                              const float *h_prev, const float *dh, float *dpre, float *dh_prev) {
  K()->gated_backward(batch, hidden, act, cache, h_prev, dh, dpre, dh_prev);
}
void recur_lstm_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *c_prev,
                            float *c, float *h, float *gates) {
  K()->lstm_forward(batch, hidden, xp, hp, c_prev, c, h, gates);
}
void recur_lstm_backward_f32(long batch, long hidden, const float *gates, const float *c_prev, const float *c,
                             const float *dh, const float *dc, float *dgates, float *dc_prev) {
  K()->lstm_backward(batch, hidden, gates, c_prev, c, dh, dc, dgates, dc_prev);
}
void recur_gru_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *h_prev,
                           float *h, float *cache) {
  K()->gru_forward(batch, hidden, xp, hp, h_prev, h, cache);
}
void recur_gru_backward_f32(long batch, long hidden, const float *cache, const float *h_prev, const float *dh,
                            float *dxp, float *dhp, float *dh_prev) {
  K()->gru_backward(batch, hidden, cache, h_prev, dh, dxp, dhp, dh_prev);
}
void recur_softmax_f32(long rows, long vocab, const float *logits, float *probs) {
  K()->softmax(rows, vocab, logits, probs);
}
double recur_softmax_xent_f32(long rows, long vocab, const float *logits, const int32_t *targets,
                              const float *weights, float scale, float *dlogits) {
  return K()->softmax_xent(rows, vocab, logits, targets, weights, scale, dlogits);
}
void recur_adam_f32(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int decoupled, float bias_correction1,
                    float bias_correction2) {
  K()->adam(n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bias_correction1,
            bias_correction2);
}

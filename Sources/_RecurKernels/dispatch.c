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
#include <sys/auxv.h>
#if defined(__aarch64__) && !defined(HWCAP_ASIMD)
#define HWCAP_ASIMD (1 << 1)  // the Linux arm64 ABI's bit for Advanced SIMD in AT_HWCAP
#endif
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

// MARK: - The scalar table

static recur_status scalar_gemm_slice(int trans_a, int trans_b, long m, long n, long k, float alpha,
                                      const float *a, long lda, const float *b, long ldb, float beta, float *c,
                                      long ldc, long i0, long i1, long j0, long j1) {
  (void)m;
  (void)n;
  if (i0 >= i1 || j0 >= j1) return RECUR_STATUS_OK;
  const float *as = trans_a ? a + i0 : a + i0 * lda;
  const float *bs = trans_b ? b + j0 * ldb : b + j0;
  recur_sgemm_scalar(trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, as, lda, bs, ldb, beta, c + i0 * ldc + j0,
                     ldc);
  return RECUR_STATUS_OK;
}

// The scalar "packed" B is op(B) copied as a plain K x N matrix.
static long scalar_packed_b_size(long n, long k) { return (n > 0 ? n : 1) * (k > 0 ? k : 1); }

static void scalar_pack_b_whole(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
  for (long p = 0; p < k; p++)
    for (long j = 0; j < n; j++) packed[p * n + j] = trans_b ? b[j * ldb + p] : b[p * ldb + j];
}

static recur_status scalar_gemm_packed_slice(int trans_a, long m, long n, long k, float alpha, const float *a,
                                             long lda, const float *packed, float beta, float *c, long ldc, long i0,
                                             long i1, long j0, long j1) {
  return scalar_gemm_slice(trans_a, 0, m, n, k, alpha, a, lda, packed, n, beta, c, ldc, i0, i1, j0, j1);
}

static recur_status scalar_gemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                                float beta, float *y) {
  recur_sgemv_scalar(trans_a, m, n, alpha, a, lda, x, beta, y);
  return RECUR_STATUS_OK;
}

const recur_f32_kernels recur_scalar_kernels = {
    .name = "scalar",
    .activate = recur_activate_f32_scalar,
    .activate_backward = recur_activate_backward_f32_scalar,
    .gemm_slice = scalar_gemm_slice,
    .packed_b_size = scalar_packed_b_size,
    .pack_b_whole = scalar_pack_b_whole,
    .gemm_packed_slice = scalar_gemm_packed_slice,
    .gemv = scalar_gemv,
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
    .lerp = recur_lerp_f32_scalar,
    .shared_mask = recur_shared_mask_f32_scalar,
};

// MARK: - Choosing once

// What the CPU can run is asked of the CPU (cpuid) or the operating system, never assumed from the
// architecture the code was compiled for; when the answer is no, or cannot be had, the scalar table runs.
int recur_isa_available(recur_isa isa) {
  switch (isa) {
  case RECUR_ISA_SCALAR: return 1;
  case RECUR_ISA_AVX2:
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
  case RECUR_ISA_NEON:
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#elif defined(__aarch64__) && defined(__APPLE__)
    {
      // "hw.optional.AdvSIMD" is the name Apple documents; older releases answer to "hw.optional.neon".
      int value = 0;
      size_t size = sizeof(value);
      if (sysctlbyname("hw.optional.AdvSIMD", &value, &size, NULL, 0) == 0) return value != 0;
      size = sizeof(value);
      if (sysctlbyname("hw.optional.neon", &value, &size, NULL, 0) == 0) return value != 0;
      return 0;
    }
#else
    return 0;
#endif
  }
  return 0;
}

const recur_f32_kernels *recur_kernels_for(recur_isa isa) {
  if (!recur_isa_available(isa)) return NULL;
  switch (isa) {
  case RECUR_ISA_SCALAR: return &recur_scalar_kernels;
#if defined(__x86_64__) || defined(_M_X64)
  case RECUR_ISA_AVX2: return &recur_avx2_kernels;
#endif
#if defined(__aarch64__)
  case RECUR_ISA_NEON: return &recur_neon_kernels;
#endif
  default: return NULL;
  }
}

static const recur_f32_kernels *active_kernels = &recur_scalar_kernels;
static recur_isa active_isa = RECUR_ISA_SCALAR;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void use(recur_isa isa) {
  const recur_f32_kernels *table = recur_kernels_for(isa);
  if (!table) return;
  active_kernels = table;
  active_isa = isa;
}

// RECUR_ISA=scalar|avx2|neon picks that table when the CPU can run it; otherwise the best the CPU has.
static void choose(void) {
  const char *forced = getenv("RECUR_ISA");
  if (forced && strcmp(forced, "scalar") == 0) return;
  if (forced && strcmp(forced, "avx2") == 0 && recur_kernels_for(RECUR_ISA_AVX2)) {
    use(RECUR_ISA_AVX2);
    return;
  }
  if (forced && strcmp(forced, "neon") == 0 && recur_kernels_for(RECUR_ISA_NEON)) {
    use(RECUR_ISA_NEON);
    return;
  }
  use(RECUR_ISA_AVX2);
  use(RECUR_ISA_NEON);
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

// Products with fewer multiply-adds than this stay on one thread.
#define RECUR_PARALLEL_MIN_FLOPS (1L << 21)

// The number of grains of RECUR_SLICE_GRAIN along the side of C that is cut (the longer one).
static long split_grains(long m, long n) {
  long extent = m >= n ? m : n;
  return (extent + RECUR_SLICE_GRAIN - 1) / RECUR_SLICE_GRAIN;
}

long recur_sgemm_parallel_parts(long m, long n, long k, long threads) {
  if (threads <= 1 || m <= 0 || n <= 0) return 1;
  if ((double)m * (double)n * (double)(k > 0 ? k : 1) < (double)RECUR_PARALLEL_MIN_FLOPS) return 1;
  long grains = split_grains(m, n);
  return grains < threads ? grains : threads;
}

recur_gemm_slice_range recur_gemm_part_range(long m, long n, long part, long parts) {
  recur_gemm_slice_range r = {m >= n, 0, 0};
  if (m <= 0 || n <= 0 || parts < 1 || part < 0 || part >= parts) return r;
  long extent = r.rows ? m : n, grains = split_grains(m, n);
  r.first = grains * part / parts * RECUR_SLICE_GRAIN;
  r.last = grains * (part + 1) / parts * RECUR_SLICE_GRAIN;
  if (r.last > extent) r.last = extent;
  return r;
}

recur_status recur_sgemm_part(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                              long lda, const float *b, long ldb, float beta, float *c, long ldc, long part,
                              long parts) {
  recur_gemm_slice_range r = recur_gemm_part_range(m, n, part, parts);
  if (r.first >= r.last) return RECUR_STATUS_OK;
  if (r.rows)
    return K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, r.first, r.last, 0, n);
  return K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, r.first, r.last);
}

// MARK: - GEMM with B packed once

long recur_sgemm_packed_b_size(long n, long k) { return K()->packed_b_size(n, k); }

void recur_sgemm_pack_b(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
  if (n <= 0) return;
  K()->pack_b_whole(trans_b, n, k, b, ldb, packed);
}

recur_status recur_sgemm_packed(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                                const float *packed, float beta, float *c, long ldc) {
  if (m <= 0 || n <= 0) return RECUR_STATUS_OK;
  return K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, 0, m, 0, n);
}

recur_status recur_sgemm_packed_part(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                                     const float *packed, float beta, float *c, long ldc, long part, long parts) {
  recur_gemm_slice_range r = recur_gemm_part_range(m, n, part, parts);
  if (r.first >= r.last) return RECUR_STATUS_OK;
  if (r.rows)
    return K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, r.first, r.last, 0, n);
  return K()->gemm_packed_slice(trans_a, m, n, k, alpha, a, lda, packed, beta, c, ldc, 0, m, r.first, r.last);
}

// MARK: - Dispatching entry points

recur_status recur_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                         long lda, const float *b, long ldb, float beta, float *c, long ldc) {
  if (m <= 0 || n <= 0) return RECUR_STATUS_OK;
  return K()->gemm_slice(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, 0, n);
}
recur_status recur_sgemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                         float beta, float *y) {
  return K()->gemv(trans_a, m, n, alpha, a, lda, x, beta, y);
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
void recur_lerp_f32(long n, float *average, const float *value, float weight) {
  K()->lerp(n, average, value, weight);
}
void recur_shared_mask_f32(long n, uint64_t seed, double keep, const float *weight, float *mask, float *dropped) {
  K()->shared_mask(n, seed, keep, weight, mask, dropped);
}

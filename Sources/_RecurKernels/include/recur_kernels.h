// Recur's compute core: GEMM, matrix-vector products and the fused element-wise kernels of the
// recurrent cells. Not public API of the Recur library; the Swift target `Recur` wraps it.
//
// Conventions
// - Row-major storage. `ld*` is the distance, in elements, between the starts of two rows.
// - Every single-precision kernel `recur_X_f32` dispatches once, at first use, to the best version for
//   this CPU (AVX2+FMA on x86_64, NEON on arm64, else scalar). `recur_X_f32_scalar` is its plain scalar
//   twin, kept callable so tests can compare the two. RECUR_ISA in the environment (read once) forces an
//   instruction set: "scalar" everywhere, "avx2" on x86_64 or "neon" on arm64 when the CPU has it (an
//   instruction set the CPU lacks, or an unknown name, leaves the automatic choice). `recur_X_f64` is the
//   double-precision version (scalar), used for gradient checks against finite differences.
// - Shape legend: B batch rows, H hidden units, G gates per cell, N rows, V vocabulary size.
// - Fused gate buffers hold G blocks of H columns per row, in the documented gate order:
//     chapter RNN  (G = 1): pre-activation a            -> s = f_s(a)
//     gated RNN    (G = 2): gate g, candidate c          -> s = (1 - g) * s_prev + g * f_s(c)
//     GRU          (G = 3): r, z, n                      (PyTorch's order)
//     LSTM         (G = 4): i, f, g, o                   (PyTorch's order)
#ifndef RECUR_KERNELS_H
#define RECUR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Instruction sets

typedef enum {
  RECUR_ISA_SCALAR = 0,
  RECUR_ISA_AVX2 = 1,
  RECUR_ISA_NEON = 2,
} recur_isa;

/// The instruction set the dispatching kernels use on this CPU.
recur_isa recur_active_isa(void);
/// Non-zero when this build has kernels for `isa` and this CPU can run them, whatever RECUR_ISA says:
/// AVX2 and FMA on x86_64 (cpuid); Advanced SIMD on arm64 (getauxval(AT_HWCAP) & HWCAP_ASIMD on Linux,
/// sysctlbyname("hw.optional.AdvSIMD") on Apple platforms). Scalar is always available.
int recur_isa_available(recur_isa isa);
/// A short human-readable name of `recur_active_isa()` ("avx2+fma", "neon", "scalar").
const char *recur_isa_name(void);

// MARK: - Status

/// What the kernels that need scratch memory (GEMM, GEMV) return. On RECUR_STATUS_NO_MEMORY the output is
/// not (or only partly) written; the Swift side turns it into a precondition failure with a message.
typedef enum {
  RECUR_STATUS_OK = 0,
  RECUR_STATUS_NO_MEMORY = 1,
} recur_status;

// MARK: - Activations

typedef enum {
  RECUR_ACT_IDENTITY = 0,
  RECUR_ACT_TANH = 1,
  RECUR_ACT_SIGMOID = 2,
  RECUR_ACT_RELU = 3,
} recur_activation;

// Accuracy of the vectorized transcendental functions (AVX2+FMA, NEON), measured against double
// precision in Tests/RecurTests/Kernels/KernelMathTests.swift: exp (Cody–Waite reduction, degree-6
// Cephes polynomial) 1.7e-7 relative; sigmoid 1.7e-7 (libm float twin: 1.7e-7); tanh 1.5e-7 (libm twin:
// 1.6e-7); the tested bound is 1e-6. exp clamps its input to [-87.3, 88.4], so sigmoid(x) for x < -87.3
// (a subnormal result) comes out as about 1.2e-38 instead.

/// y[i] = act(x[i]) for i < n. `x` and `y` may alias.
void recur_activate_f32(long n, recur_activation act, const float *x, float *y);
void recur_activate_f32_scalar(long n, recur_activation act, const float *x, float *y);
void recur_activate_f64(long n, recur_activation act, const double *x, double *y);

/// dx[i] = dy[i] * act'(at the point whose output is y[i]), written in terms of the output y.
void recur_activate_backward_f32(long n, recur_activation act, const float *y, const float *dy, float *dx);
void recur_activate_backward_f32_scalar(long n, recur_activation act, const float *y, const float *dy, float *dx);
void recur_activate_backward_f64(long n, recur_activation act, const double *y, const double *dy, double *dx);

// MARK: - GEMM and GEMV

/// C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is M x K, op(B) is K x N, C is M x N.
/// `trans_a` / `trans_b` non-zero means op(X) = X^T. When beta == 0, C is not read (NaNs in C vanish).
recur_status recur_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                         long lda, const float *b, long ldb, float beta, float *c, long ldc);
void recur_sgemm_scalar(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                        long lda, const float *b, long ldb, float beta, float *c, long ldc);
void recur_dgemm(int trans_a, int trans_b, long m, long n, long k, double alpha, const double *a, long lda,
                 const double *b, long ldb, double beta, double *c, long ldc);

/// One of `parts` slices of the product of `recur_sgemm` (part in 0 ..< parts). The slices are cut from
/// the shape alone and each element is computed the same way in any slice, so running the parts on any
/// number of threads gives C bitwise equal to one `recur_sgemm` call. Parts may run concurrently.
recur_status recur_sgemm_part(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                              long lda, const float *b, long ldb, float beta, float *c, long ldc, long part,
                              long parts);
/// How many parts `recur_sgemm_part` should split an M x N x K product into for up to `threads` threads:
/// 1 for products too small to gain from threads.
long recur_sgemm_parallel_parts(long m, long n, long k, long threads);

/// GEMM with op(B) packed once, for a B operand reused by many products (a recurrent weight, once per
/// time step): `recur_sgemm_packed_b_size` floats hold the packed op(B) (K x N); `recur_sgemm_pack_b` fills
/// them (the buffer must be 64-byte aligned); `recur_sgemm_packed` computes C = alpha * op(A) * op(B) +
/// beta * C from them, bitwise equal to `recur_sgemm` with the same operands when M and N exceed 1, and
/// `recur_sgemm_packed_part` is one of `parts` slices of it (split as `recur_sgemm_part`, same parts count
/// from `recur_sgemm_parallel_parts`).
long recur_sgemm_packed_b_size(long n, long k);
void recur_sgemm_pack_b(int trans_b, long n, long k, const float *b, long ldb, float *packed);
recur_status recur_sgemm_packed(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                                const float *packed, float beta, float *c, long ldc);
recur_status recur_sgemm_packed_part(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                                     const float *packed, float beta, float *c, long ldc, long part, long parts);

/// y = alpha * op(A) * x + beta * y; A is M x N row-major; op(A) = A (y has M entries) or A^T (N entries).
recur_status recur_sgemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                         float beta, float *y);
void recur_sgemv_scalar(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                        float beta, float *y);
void recur_dgemv(int trans_a, long m, long n, double alpha, const double *a, long lda, const double *x,
                 double beta, double *y);

// MARK: - Threads

/// The number of threads parallel kernels use: set by `recur_set_thread_count`, else the environment
/// variable RECUR_THREADS, else the processors this process may run on.
long recur_thread_count(void);
/// Sets the number of threads parallel kernels use (values below 1 mean 1).
void recur_set_thread_count(long threads);

// MARK: - Row helpers

/// Each of the N rows of C (N x width, leading dimension ldc) gets `bias` added (beta == 1) or set (beta == 0).
void recur_add_row_vector_f32(long rows, long width, const float *bias, float beta, float *c, long ldc);
void recur_add_row_vector_f32_scalar(long rows, long width, const float *bias, float beta, float *c, long ldc);
void recur_add_row_vector_f64(long rows, long width, const double *bias, double beta, double *c, long ldc);
/// out[j] += sum over the N rows of a[i][j].
void recur_sum_rows_f32(long rows, long width, const float *a, long lda, float *out);
void recur_sum_rows_f32_scalar(long rows, long width, const float *a, long lda, float *out);
void recur_sum_rows_f64(long rows, long width, const double *a, long lda, double *out);

// MARK: - Recurrent cells, one time step for B rows
//
// xp: the input projection W_ih x_t + b_ih for this step (B x GH, contiguous).
// hp: the recurrent projection W_hh s_{t-1} + b_hh (B x GH, contiguous).
// States are B x H, contiguous. Backward kernels take dh = dL/ds_t (total: this step's loss and the future)
// and write the pre-activation gradients (B x GH) and the direct part of dL/ds_{t-1} (the part that does
// not go through W_hh; the caller adds dhp * W_hh).

/// Chapter RNN: h = act(xp + hp).
void recur_rnn_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                           float *h);
void recur_rnn_forward_f32_scalar(long batch, long hidden, recur_activation act, const float *xp,
                                  const float *hp, float *h);
void recur_rnn_forward_f64(long batch, long hidden, recur_activation act, const double *xp, const double *hp,
                           double *h);
/// dpre = dh * act'(.) with the derivative taken from the output h. No direct path to s_{t-1}.
void recur_rnn_backward_f32(long batch, long hidden, recur_activation act, const float *h, const float *dh,
                            float *dpre);
void recur_rnn_backward_f32_scalar(long batch, long hidden, recur_activation act, const float *h,
                                   const float *dh, float *dpre);
void recur_rnn_backward_f64(long batch, long hidden, recur_activation act, const double *h, const double *dh,
                            double *dpre);

/// Chapter gated RNN: g = sigmoid(xp_g + hp_g), c = act(xp_c + hp_c), h = (1 - g) * h_prev + g * c.
/// cache (B x 2H) receives g and c.
void recur_gated_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                             const float *h_prev, float *h, float *cache);
void recur_gated_forward_f32_scalar(long batch, long hidden, recur_activation act, const float *xp,
                                    const float *hp, const float *h_prev, float *h, float *cache);
void recur_gated_forward_f64(long batch, long hidden, recur_activation act, const double *xp, const double *hp,
                             const double *h_prev, double *h, double *cache);
/// dpre (B x 2H) = gradients of the gate and candidate pre-activations; dh_prev = dh * (1 - g).
void recur_gated_backward_f32(long batch, long hidden, recur_activation act, const float *cache,
                              const float *h_prev, const float *dh, float *dpre, float *dh_prev);
void recur_gated_backward_f32_scalar(long batch, long hidden, recur_activation act, const float *cache,
                                     const float *h_prev, const float *dh, float *dpre, float *dh_prev);
void recur_gated_backward_f64(long batch, long hidden, recur_activation act, const double *cache,
                              const double *h_prev, const double *dh, double *dpre, double *dh_prev);

/// LSTM (PyTorch): i, f, o = sigmoid(.), g = tanh(.) of xp + hp; c = f * c_prev + i * g; h = o * tanh(c).
/// gates (B x 4H) receives the activated i, f, g, o.
void recur_lstm_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *c_prev,
                            float *c, float *h, float *gates);
void recur_lstm_forward_f32_scalar(long batch, long hidden, const float *xp, const float *hp,
                                   const float *c_prev, float *c, float *h, float *gates);
void recur_lstm_forward_f64(long batch, long hidden, const double *xp, const double *hp, const double *c_prev,
                            double *c, double *h, double *gates);
/// In: dh = dL/dh_t, dc = dL/dc_t from the future (may be NULL for zero). Out: dgates (B x 4H, the
/// pre-activation gradients, the same for xp and hp) and dc_prev = dL/dc_{t-1}.
void recur_lstm_backward_f32(long batch, long hidden, const float *gates, const float *c_prev, const float *c,
                             const float *dh, const float *dc, float *dgates, float *dc_prev);
void recur_lstm_backward_f32_scalar(long batch, long hidden, const float *gates, const float *c_prev,
                                    const float *c, const float *dh, const float *dc, float *dgates,
                                    float *dc_prev);
void recur_lstm_backward_f64(long batch, long hidden, const double *gates, const double *c_prev,
                             const double *c, const double *dh, const double *dc, double *dgates,
                             double *dc_prev);

/// GRU (PyTorch): r = sigmoid(xp_r + hp_r), z = sigmoid(xp_z + hp_z), n = tanh(xp_n + r * hp_n),
/// h = (1 - z) * n + z * h_prev. cache (B x 4H) receives r, z, n, hp_n.
void recur_gru_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *h_prev,
                           float *h, float *cache);
void recur_gru_forward_f32_scalar(long batch, long hidden, const float *xp, const float *hp,
                                  const float *h_prev, float *h, float *cache);
void recur_gru_forward_f64(long batch, long hidden, const double *xp, const double *hp, const double *h_prev,
                           double *h, double *cache);
/// Out: dxp (B x 3H), dhp (B x 3H; differs from dxp in the n block, scaled by r), dh_prev = dh * z.
void recur_gru_backward_f32(long batch, long hidden, const float *cache, const float *h_prev, const float *dh,
                            float *dxp, float *dhp, float *dh_prev);
void recur_gru_backward_f32_scalar(long batch, long hidden, const float *cache, const float *h_prev,
                                   const float *dh, float *dxp, float *dhp, float *dh_prev);
void recur_gru_backward_f64(long batch, long hidden, const double *cache, const double *h_prev,
                            const double *dh, double *dxp, double *dhp, double *dh_prev);

// MARK: - Softmax and cross-entropy

/// Row-wise softmax of logits (N x V) into probs; numerically stable (max subtracted). May alias.
void recur_softmax_f32(long rows, long vocab, const float *logits, float *probs);
void recur_softmax_f32_scalar(long rows, long vocab, const float *logits, float *probs);
void recur_softmax_f64(long rows, long vocab, const double *logits, double *probs);

/// Softmax cross-entropy over N rows of V logits. Returns sum_i w_i * (logsumexp(logits_i) - logits_i[t_i]),
/// accumulated in double; rows with target < 0 or weight 0 are skipped. `weights` may be NULL (all 1).
/// If `dlogits` is not NULL it receives scale * w_i * (softmax(logits_i) - onehot(t_i)) (zero rows for
/// skipped rows). `dlogits` may alias `logits`.
double recur_softmax_xent_f32(long rows, long vocab, const float *logits, const int32_t *targets,
                              const float *weights, float scale, float *dlogits);
double recur_softmax_xent_f32_scalar(long rows, long vocab, const float *logits, const int32_t *targets,
                                     const float *weights, float scale, float *dlogits);
double recur_softmax_xent_f64(long rows, long vocab, const double *logits, const int32_t *targets,
                              const double *weights, double scale, double *dlogits);

// MARK: - Optimizer updates

/// Adam / AdamW, one step for n parameters, in place. With `decoupled` non-zero the weight decay is
/// AdamW's (p -= lr * wd * p before the Adam step); otherwise L2 (g += wd * p).
/// bias_correction1 = 1 - beta1^t, bias_correction2 = 1 - beta2^t.
void recur_adam_f32(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int decoupled, float bias_correction1,
                    float bias_correction2);
void recur_adam_f32_scalar(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                           float beta2, float eps, float weight_decay, int decoupled, float bias_correction1,
                           float bias_correction2);
void recur_adam_f64(long n, double *param, const double *grad, double *m, double *v, double lr, double beta1,
                    double beta2, double eps, double weight_decay, int decoupled, double bias_correction1,
                    double bias_correction2);

/// The weight average's update, PyTorch's lerp in place: average += weight * (value - average), computed
/// as fma(weight, value - average, average) for weight < 0.5 and fma(weight - 1, value - average, value)
/// otherwise (torch.lerp's CPU kernel, so a float32 average matches torch.optim.swa_utils.AveragedModel's).
void recur_lerp_f32(long n, float *average, const float *value, float weight);
void recur_lerp_f32_scalar(long n, float *average, const float *value, float weight);
void recur_lerp_f64(long n, double *average, const double *value, double weight);

// MARK: - Dropout masks shared by a batch

/// A dropout mask shared by a whole batch (weight drop's M over W_hh, embedding dropout's rows), by a
/// counter-based rule: each element's keep decision is a pure function of (seed, i), so the elements can be
/// decided in any order, in vector lanes. With lo and hi the low and high 32 bits of `seed` and
///   mix32(x) = lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
/// (arithmetic modulo 2^32), element i (0 <= i < n <= 2^32) is kept when
///   mix32(mix32(i ^ lo) ^ hi) < round(keep * 2^32)
/// the threshold rounded to the nearest integer, ties up, compared as a 64-bit integer (keep >= 1 keeps
/// everything, keep <= 0 nothing); a kept element is dropped with probability 1 - keep to within 2^-33.
/// Writes mask[i] = 1/keep (rounded from double once) if kept, else 0, and, when `weight` is not NULL,
/// dropped[i] = weight[i] * mask[i] in the same pass. The vector versions are bitwise their scalar twin's.
void recur_shared_mask_f32(long n, uint64_t seed, double keep, const float *weight, float *mask, float *dropped);
void recur_shared_mask_f32_scalar(long n, uint64_t seed, double keep, const float *weight, float *mask,
                                  float *dropped);
void recur_shared_mask_f64(long n, uint64_t seed, double keep, const double *weight, double *mask,
                           double *dropped);

#ifdef __cplusplus
}
#endif

#endif

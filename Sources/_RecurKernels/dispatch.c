// Chooses, once, the version of each single-precision kernel for this CPU.
#include "recur_kernels.h"

recur_isa recur_active_isa(void) { return RECUR_ISA_SCALAR; }

const char *recur_isa_name(void) {
  switch (recur_active_isa()) {
  case RECUR_ISA_AVX2: return "avx2+fma";
  case RECUR_ISA_NEON: return "neon";
  default: return "scalar";
  }
}

void recur_activate_f32(long n, recur_activation act, const float *x, float *y) {
  recur_activate_f32_scalar(n, act, x, y);
}
void recur_activate_backward_f32(long n, recur_activation act, const float *y, const float *dy, float *dx) {
  recur_activate_backward_f32_scalar(n, act, y, dy, dx);
}
void recur_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                 const float *b, long ldb, float beta, float *c, long ldc) {
  recur_sgemm_scalar(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void recur_sgemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x, float beta,
                 float *y) {
  recur_sgemv_scalar(trans_a, m, n, alpha, a, lda, x, beta, y);
}
void recur_add_row_vector_f32(long rows, long width, const float *bias, float beta, float *c, long ldc) {
  recur_add_row_vector_f32_scalar(rows, width, bias, beta, c, ldc);
}
void recur_sum_rows_f32(long rows, long width, const float *a, long lda, float *out) {
  recur_sum_rows_f32_scalar(rows, width, a, lda, out);
}
void recur_rnn_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                           float *h) {
  recur_rnn_forward_f32_scalar(batch, hidden, act, xp, hp, h);
}
void recur_rnn_backward_f32(long batch, long hidden, recur_activation act, const float *h, const float *dh,
                            float *dpre) {
  recur_rnn_backward_f32_scalar(batch, hidden, act, h, dh, dpre);
}
void recur_gated_forward_f32(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                             const float *h_prev, float *h, float *cache) {
  recur_gated_forward_f32_scalar(batch, hidden, act, xp, hp, h_prev, h, cache);
}
void recur_gated_backward_f32(long batch, long hidden, recur_activation act, const float *cache,
                              const float *h_prev, const float *dh, float *dpre, float *dh_prev) {
  recur_gated_backward_f32_scalar(batch, hidden, act, cache, h_prev, dh, dpre, dh_prev);
}
void recur_lstm_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *c_prev,
                            float *c, float *h, float *gates) {
  recur_lstm_forward_f32_scalar(batch, hidden, xp, hp, c_prev, c, h, gates);
}
void recur_lstm_backward_f32(long batch, long hidden, const float *gates, const float *c_prev, const float *c,
                             const float *dh, const float *dc, float *dgates, float *dc_prev) {
  recur_lstm_backward_f32_scalar(batch, hidden, gates, c_prev, c, dh, dc, dgates, dc_prev);
}
void recur_gru_forward_f32(long batch, long hidden, const float *xp, const float *hp, const float *h_prev,
                           float *h, float *cache) {
  recur_gru_forward_f32_scalar(batch, hidden, xp, hp, h_prev, h, cache);
}
void recur_gru_backward_f32(long batch, long hidden, const float *cache, const float *h_prev, const float *dh,
                            float *dxp, float *dhp, float *dh_prev) {
  recur_gru_backward_f32_scalar(batch, hidden, cache, h_prev, dh, dxp, dhp, dh_prev);
}
void recur_softmax_f32(long rows, long vocab, const float *logits, float *probs) {
  recur_softmax_f32_scalar(rows, vocab, logits, probs);
}
double recur_softmax_xent_f32(long rows, long vocab, const float *logits, const int32_t *targets,
                              const float *weights, float scale, float *dlogits) {
  return recur_softmax_xent_f32_scalar(rows, vocab, logits, targets, weights, scale, dlogits);
}
void recur_adam_f32(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int decoupled, float bias_correction1,
                    float bias_correction2) {
  recur_adam_f32_scalar(n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bias_correction1,
                        bias_correction2);
}

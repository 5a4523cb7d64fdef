// The vectorized single-precision kernels, written once over a small vector vocabulary and instantiated
// by avx2.c (8 lanes) and neon.c (4 lanes). The including file defines:
//   VF, VM                 the vector and comparison-mask types; VL the number of float lanes
//   V_SET1 V_LOAD V_STORE  broadcast, unaligned load and store
//   V_ADD V_SUB V_MUL V_DIV V_SQRT V_MAX V_MIN V_ABS   lane-wise arithmetic (IEEE, not fused)
//   V_FMA(a, b, c)         a * b + c with one rounding; V_FNMA(a, b, c) c - a * b with one rounding
//   V_ROUND                round to the nearest integer; V_POW2I(n) 2^n for integer-valued n in [-126, 127]
//   V_GT V_GE V_SELECT     comparisons giving a mask; V_SELECT(mask, a, b) is mask ? a : b per lane
//   V_HSUM V_HMAX          horizontal sum (fixed order) and maximum of the lanes
//   VI                     a vector of VL 32-bit unsigned integers; VI_SET1 VI_LOAD (from uint32_t *)
//   VI_ADD VI_XOR VI_MUL   lane-wise, modulo 2^32 (VI_MUL keeps the low 32 bits of the product)
//   VI_SHR(x, n)           logical right shift by a constant; VI_ULT(a, b) the mask of a < b (unsigned)
//   MR, NR                 the GEMM register tile (rows of A by columns of B)
//   MICRO_KERNEL           static void f(long kc, const float *ap, const float *bp, float acc[MR * NR]) or
//                          the name of a function with that signature and the contract of micro_generic
//   MICRO_KERNEL_4         optional: the same contract for tiles of at most 4 rows (rows 4.. unwritten)
//   PACK_B_TRANSPOSED      optional faster replacement of pack_b_transposed
//   KERNEL_TABLE           the name of the recur_f32_kernels table to define; KERNEL_NAME its name
// Tails shorter than a vector go through a zero-padded buffer and the same vector arithmetic, so an
// element's result does not depend on where it sits in the array.

#include <math.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Loads and stores of possibly partial vectors

static inline VF load_n(const float *p, long n) {
  if (n >= VL) return V_LOAD(p);
  float t[VL] = {0};
  memcpy(t, p, (size_t)n * sizeof(float));
  return V_LOAD(t);
}

// A partial vector whose missing lanes hold `fill`.
static inline VF load_n_fill(const float *p, long n, float fill) {
  if (n >= VL) return V_LOAD(p);
  float t[VL];
  for (long q = 0; q < VL; q++) t[q] = q < n ? p[q] : fill;
  return V_LOAD(t);
}

static inline void store_n(float *p, VF v, long n) {
  if (n >= VL) {
    V_STORE(p, v);
    return;
  }
  float t[VL];
  V_STORE(t, v);
  memcpy(p, t, (size_t)n * sizeof(float));
}

// v with the lanes from n on set to zero.
static inline VF keep_lanes(VF v, long n) {
  if (n >= VL) return v;
  float t[VL];
  V_STORE(t, v);
  for (long q = n; q < VL; q++) t[q] = 0;
  return V_LOAD(t);
}

static inline long chunk(long n, long i) { return n - i < VL ? n - i : VL; }

// MARK: - exp, sigmoid, tanh

// exp(x) by Cody–Waite reduction x = n ln2 + r, |r| <= ln2 / 2, and the Cephes expf polynomial for e^r.
// Inputs are clamped to [-87.3, 88.37]: results below FLT_MIN (x < -87.3) come out as about 1.2e-38
// instead of a subnormal, larger inputs give about 2.4e38 instead of infinity. A NaN stays NaN: x is the
// second operand of the clamps because x86's max and min return their second operand when one is NaN
// (with x first, exp(NaN) was 1.2e-38 on AVX2, and a NaN logit vanished from the softmax).
static inline VF v_exp(VF x) {
  x = V_MIN(V_SET1(88.3762626647949f), V_MAX(V_SET1(-87.3365f), x));
  VF n = V_ROUND(V_MUL(x, V_SET1(1.44269504088896341f)));
  VF r = V_FNMA(n, V_SET1(0.693359375f), x);
  r = V_FNMA(n, V_SET1(-2.12194440e-4f), r);
  VF p = V_SET1(1.9875691500e-4f);
  p = V_FMA(p, r, V_SET1(1.3981999507e-3f));
  p = V_FMA(p, r, V_SET1(8.3334519073e-3f));
  p = V_FMA(p, r, V_SET1(4.1665795894e-2f));
  p = V_FMA(p, r, V_SET1(1.6666665459e-1f));
  p = V_FMA(p, r, V_SET1(5.0000001201e-1f));
  VF y = V_ADD(V_FMA(p, V_MUL(r, r), r), V_SET1(1.0f));
  return V_MUL(y, V_POW2I(n));
}

// sigmoid(x) evaluated, like the scalar twin, with e = exp(-|x|) <= 1 so nothing overflows:
// 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.
static inline VF v_sigmoid(VF x) {
  VF e = v_exp(V_SUB(V_SET1(0.0f), V_ABS(x)));
  VF d = V_ADD(V_SET1(1.0f), e);
  return V_SELECT(V_GE(x, V_SET1(0.0f)), V_DIV(V_SET1(1.0f), d), V_DIV(e, d));
}

// tanh(x): the Cephes tanhf odd polynomial for |x| < 0.625, else sign(x) (1 - e) / (1 + e) with
// e = exp(-2|x|) <= 0.29 (no cancellation, no overflow).
static inline VF v_tanh(VF x) {
  VF ax = V_ABS(x);
  VF s = V_MUL(x, x);
  VF p = V_SET1(-5.70498872745e-3f);
  p = V_FMA(p, s, V_SET1(2.06390887954e-2f));
  p = V_FMA(p, s, V_SET1(-5.37397155531e-2f));
  p = V_FMA(p, s, V_SET1(1.33314422036e-1f));
  p = V_FMA(p, s, V_SET1(-3.33332819422e-1f));
  VF small = V_FMA(V_MUL(p, s), x, x);
  VF e = v_exp(V_MUL(ax, V_SET1(-2.0f)));
  VF big = V_DIV(V_SUB(V_SET1(1.0f), e), V_ADD(V_SET1(1.0f), e));
  big = V_SELECT(V_GE(x, V_SET1(0.0f)), big, V_SUB(V_SET1(0.0f), big));
  return V_SELECT(V_GE(ax, V_SET1(0.625f)), big, small);
}

static inline VF v_act(recur_activation act, VF x) {
  switch (act) {
  case RECUR_ACT_TANH: return v_tanh(x);
  case RECUR_ACT_SIGMOID: return v_sigmoid(x);
  case RECUR_ACT_RELU: return V_SELECT(V_GT(x, V_SET1(0.0f)), x, V_SET1(0.0f));
  default: return x;
  }
}

// The derivative of the activation from its output y (as the scalar twin's dact1).
static inline VF v_dact(recur_activation act, VF y) {
  VF one = V_SET1(1.0f);
  switch (act) {
  case RECUR_ACT_TANH: return V_SUB(one, V_MUL(y, y));
  case RECUR_ACT_SIGMOID: return V_MUL(y, V_SUB(one, y));
  case RECUR_ACT_RELU: return V_SELECT(V_GT(y, V_SET1(0.0f)), one, V_SET1(0.0f));
  default: return one;
  }
}

// MARK: - Activations

static void k_activate(long n, recur_activation act, const float *x, float *y) {
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    store_n(y + i, v_act(act, load_n(x + i, w)), w);
  }
}

static void k_activate_backward(long n, recur_activation act, const float *y, const float *dy, float *dx) {
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    store_n(dx + i, V_MUL(load_n(dy + i, w), v_dact(act, load_n(y + i, w))), w);
  }
}

// MARK: - Row helpers

static void k_add_row_vector(long rows, long width, const float *bias, float beta, float *c, long ldc) {
  for (long r = 0; r < rows; r++) {
    float *row = c + r * ldc;
    for (long j = 0; j < width; j += VL) {
      long w = chunk(width, j);
      VF b = load_n(bias + j, w);
      store_n(row + j, beta == 0 ? b : V_ADD(load_n(row + j, w), b), w);
    }
  }
}

static void k_sum_rows(long rows, long width, const float *a, long lda, float *out) {
  for (long j = 0; j < width; j += VL) {
    long w = chunk(width, j);
    VF acc = load_n(out + j, w);
    for (long r = 0; r < rows; r++) acc = V_ADD(acc, load_n(a + r * lda + j, w));
    store_n(out + j, acc, w);
  }
}

// MARK: - Recurrent cells

static void k_rnn_forward(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                          float *h) {
  long n = batch * hidden;
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    store_n(h + i, v_act(act, V_ADD(load_n(xp + i, w), load_n(hp + i, w))), w);
  }
}

static void k_rnn_backward(long batch, long hidden, recur_activation act, const float *h, const float *dh,
                           float *dpre) {
  k_activate_backward(batch * hidden, act, h, dh, dpre);
}

static void k_gated_forward(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                            const float *h_prev, float *h, float *cache) {
  long H = hidden, G = 2 * hidden;
  for (long b = 0; b < batch; b++) {
    const float *x = xp + b * G, *r = hp + b * G, *prev = h_prev + b * H;
    float *cc = cache + b * G, *out = h + b * H;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j);
      VF g = v_sigmoid(V_ADD(load_n(x + j, w), load_n(r + j, w)));
      VF cand = v_act(act, V_ADD(load_n(x + H + j, w), load_n(r + H + j, w)));
      store_n(cc + j, g, w);
      store_n(cc + H + j, cand, w);
      // h = (1 - g) * prev + g * cand
      VF keep = V_MUL(V_SUB(V_SET1(1.0f), g), load_n(prev + j, w));
      store_n(out + j, V_ADD(keep, V_MUL(g, cand)), w);
    }
  }
}

static void k_gated_backward(long batch, long hidden, recur_activation act, const float *cache,
                             const float *h_prev, const float *dh, float *dpre, float *dh_prev) {
  long H = hidden, G = 2 * hidden;
  VF one = V_SET1(1.0f);
  for (long b = 0; b < batch; b++) {
    const float *cc = cache + b * G, *prev = h_prev + b * H, *d = dh + b * H;
    float *dp = dpre + b * G, *dprev = dh_prev + b * H;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j);
      VF g = load_n(cc + j, w), cand = load_n(cc + H + j, w), hp = load_n(prev + j, w), dhj = load_n(d + j, w);
      // h = (1 - g) * prev + g * cand
      VF dg = V_MUL(V_MUL(V_MUL(dhj, V_SUB(cand, hp)), g), V_SUB(one, g));
      store_n(dp + j, dg, w);
      store_n(dp + H + j, V_MUL(V_MUL(dhj, g), v_dact(act, cand)), w);
      store_n(dprev + j, V_MUL(dhj, V_SUB(one, g)), w);
    }
  }
}

static void k_lstm_forward(long batch, long hidden, const float *xp, const float *hp, const float *c_prev,
                           float *c, float *h, float *gates) {
  long H = hidden, G = 4 * hidden;
  for (long b = 0; b < batch; b++) {
    const float *x = xp + b * G, *r = hp + b * G, *cp = c_prev + b * H;
    float *gt = gates + b * G, *cn = c + b * H, *hn = h + b * H;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j);
      VF i = v_sigmoid(V_ADD(load_n(x + j, w), load_n(r + j, w)));
      VF f = v_sigmoid(V_ADD(load_n(x + H + j, w), load_n(r + H + j, w)));
      VF g = v_tanh(V_ADD(load_n(x + 2 * H + j, w), load_n(r + 2 * H + j, w)));
      VF o = v_sigmoid(V_ADD(load_n(x + 3 * H + j, w), load_n(r + 3 * H + j, w)));
      // c = f * c_prev + i * g;  h = o * tanh(c)
      VF cv = V_ADD(V_MUL(f, load_n(cp + j, w)), V_MUL(i, g));
      store_n(cn + j, cv, w);
      store_n(hn + j, V_MUL(o, v_tanh(cv)), w);
      store_n(gt + j, i, w);
      store_n(gt + H + j, f, w);
      store_n(gt + 2 * H + j, g, w);
      store_n(gt + 3 * H + j, o, w);
    }
  }
}

static void k_lstm_backward(long batch, long hidden, const float *gates, const float *c_prev, const float *c,
                            const float *dh, const float *dc, float *dgates, float *dc_prev) {
  long H = hidden, G = 4 * hidden;
  VF one = V_SET1(1.0f);
  for (long b = 0; b < batch; b++) {
    const float *gt = gates + b * G;
    float *d = dgates + b * G;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j), k = b * H + j;
      VF i = load_n(gt + j, w), f = load_n(gt + H + j, w), g = load_n(gt + 2 * H + j, w);
      VF o = load_n(gt + 3 * H + j, w);
      VF tc = v_tanh(load_n(c + k, w)), dhk = load_n(dh + k, w);
      // h = o * tanh(c);  c = f * c_prev + i * g
      VF dct = V_MUL(V_MUL(dhk, o), V_SUB(one, V_MUL(tc, tc)));
      if (dc) dct = V_ADD(dct, load_n(dc + k, w));
      store_n(d + j, V_MUL(V_MUL(V_MUL(dct, g), i), V_SUB(one, i)), w);
      store_n(d + H + j, V_MUL(V_MUL(V_MUL(dct, load_n(c_prev + k, w)), f), V_SUB(one, f)), w);
      store_n(d + 2 * H + j, V_MUL(V_MUL(dct, i), V_SUB(one, V_MUL(g, g))), w);
      store_n(d + 3 * H + j, V_MUL(V_MUL(V_MUL(dhk, tc), o), V_SUB(one, o)), w);
      store_n(dc_prev + k, V_MUL(dct, f), w);
    }
  }
}

static void k_gru_forward(long batch, long hidden, const float *xp, const float *hp, const float *h_prev,
                          float *h, float *cache) {
  long H = hidden, G = 3 * hidden;
  for (long b = 0; b < batch; b++) {
    const float *x = xp + b * G, *p = hp + b * G;
    float *cc = cache + b * 4 * H;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j), k = b * H + j;
      VF r = v_sigmoid(V_ADD(load_n(x + j, w), load_n(p + j, w)));
      VF z = v_sigmoid(V_ADD(load_n(x + H + j, w), load_n(p + H + j, w)));
      VF hn = load_n(p + 2 * H + j, w);
      VF n = v_tanh(V_ADD(load_n(x + 2 * H + j, w), V_MUL(r, hn)));
      // h = (1 - z) * n + z * h_prev
      store_n(h + k, V_ADD(V_MUL(V_SUB(V_SET1(1.0f), z), n), V_MUL(z, load_n(h_prev + k, w))), w);
      store_n(cc + j, r, w);
      store_n(cc + H + j, z, w);
      store_n(cc + 2 * H + j, n, w);
      store_n(cc + 3 * H + j, hn, w);
    }
  }
}

static void k_gru_backward(long batch, long hidden, const float *cache, const float *h_prev, const float *dh,
                           float *dxp, float *dhp, float *dh_prev) {
  long H = hidden, G = 3 * hidden;
  VF one = V_SET1(1.0f);
  for (long b = 0; b < batch; b++) {
    const float *cc = cache + b * 4 * H;
    float *dx = dxp + b * G, *dp = dhp + b * G;
    for (long j = 0; j < H; j += VL) {
      long w = chunk(H, j), k = b * H + j;
      VF r = load_n(cc + j, w), z = load_n(cc + H + j, w), n = load_n(cc + 2 * H + j, w);
      VF hn = load_n(cc + 3 * H + j, w), dhk = load_n(dh + k, w);
      // h = (1 - z) * n + z * h_prev;  n = tanh(xn + r * hn)
      VF dn = V_MUL(V_MUL(dhk, V_SUB(one, z)), V_SUB(one, V_MUL(n, n)));
      VF dz = V_MUL(V_MUL(V_MUL(dhk, V_SUB(load_n(h_prev + k, w), n)), z), V_SUB(one, z));
      VF dr = V_MUL(V_MUL(V_MUL(dn, hn), r), V_SUB(one, r));
      store_n(dx + j, dr, w);
      store_n(dx + H + j, dz, w);
      store_n(dx + 2 * H + j, dn, w);
      store_n(dp + j, dr, w);
      store_n(dp + H + j, dz, w);
      store_n(dp + 2 * H + j, V_MUL(dn, r), w);
      store_n(dh_prev + k, V_MUL(dhk, z), w);
    }
  }
}

// MARK: - Softmax and cross-entropy

static float row_max(long vocab, const float *l) {
  VF m = V_SET1(l[0]);
  for (long j = 0; j < vocab; j += VL) m = V_MAX(m, load_n_fill(l + j, chunk(vocab, j), l[0]));
  return V_HMAX(m);
}

// sum_j exp(l[j] - mx), in float vectors for runs of up to 64 vectors and in double across runs.
static double row_sum_exp(long vocab, const float *l, float mx) {
  double total = 0;
  VF vmx = V_SET1(mx);
  for (long start = 0; start < vocab; start += 64 * VL) {
    long end = start + 64 * VL < vocab ? start + 64 * VL : vocab;
    VF acc = V_SET1(0.0f);
    for (long j = start; j < end; j += VL) {
      long w = chunk(end, j);
      VF e = v_exp(V_SUB(load_n(l + j, w), vmx));
      acc = V_ADD(acc, keep_lanes(e, w));
    }
    total += (double)V_HSUM(acc);
  }
  return total;
}

static void k_softmax(long rows, long vocab, const float *logits, float *probs) {
  for (long i = 0; i < rows; i++) {
    const float *l = logits + i * vocab;
    float *p = probs + i * vocab;
    float mx = row_max(vocab, l);
    VF vmx = V_SET1(mx), sum = V_SET1(0.0f);
    for (long j = 0; j < vocab; j += VL) {
      long w = chunk(vocab, j);
      VF e = v_exp(V_SUB(load_n(l + j, w), vmx));
      store_n(p + j, e, w);
      sum = V_ADD(sum, keep_lanes(e, w));
    }
    VF inv = V_SET1(1.0f / V_HSUM(sum));
    for (long j = 0; j < vocab; j += VL) {
      long w = chunk(vocab, j);
      store_n(p + j, V_MUL(load_n(p + j, w), inv), w);
    }
  }
}

static double k_softmax_xent(long rows, long vocab, const float *logits, const int32_t *targets,
                             const float *weights, float scale, float *dlogits) {
  double total = 0;
  for (long i = 0; i < rows; i++) {
    const float *l = logits + i * vocab;
    float wt = weights ? weights[i] : 1.0f;
    int32_t t = targets[i];
    if (t < 0 || t >= vocab || wt == 0) {
      if (dlogits) memset(dlogits + i * vocab, 0, (size_t)vocab * sizeof(float));
      continue;
    }
    float mx = row_max(vocab, l);
    double sum = row_sum_exp(vocab, l, mx);
    total += (double)wt * ((double)mx + log(sum) - (double)l[t]);
    if (!dlogits) continue;
    float *d = dlogits + i * vocab;
    VF inv = V_SET1((float)(1.0 / sum)), vmx = V_SET1(mx), sw = V_SET1(scale * wt);
    for (long j = 0; j < vocab; j += VL) {
      long w = chunk(vocab, j);
      VF p = V_MUL(v_exp(V_SUB(load_n(l + j, w), vmx)), inv);
      if (t >= j && t < j + VL) {
        float onehot[VL] = {0};
        onehot[t - j] = 1.0f;
        p = V_SUB(p, V_LOAD(onehot));
      }
      store_n(d + j, V_MUL(sw, p), w);
    }
  }
  return total;
}

// MARK: - Adam

static void k_adam(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                   float beta2, float eps, float weight_decay, int decoupled, float bias_correction1,
                   float bias_correction2) {
  VF vlr = V_SET1(lr), vwd = V_SET1(weight_decay), vlrwd = V_SET1(lr * weight_decay);
  VF b1 = V_SET1(beta1), b2 = V_SET1(beta2), c1 = V_SET1(1.0f - beta1), c2 = V_SET1(1.0f - beta2);
  VF bc1 = V_SET1(bias_correction1), bc2 = V_SET1(bias_correction2), veps = V_SET1(eps);
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    VF p = load_n(param + i, w), g = load_n(grad + i, w);
    if (decoupled)
      p = V_SUB(p, V_MUL(vlrwd, p));
    else
      g = V_ADD(g, V_MUL(vwd, p));
    VF mi = V_ADD(V_MUL(b1, load_n(m + i, w)), V_MUL(c1, g));
    VF vi = V_ADD(V_MUL(b2, load_n(v + i, w)), V_MUL(V_MUL(c2, g), g));
    store_n(m + i, mi, w);
    store_n(v + i, vi, w);
    VF denom = V_ADD(V_SQRT(V_DIV(vi, bc2)), veps);
    p = V_SUB(p, V_DIV(V_MUL(vlr, V_DIV(mi, bc1)), denom));
    store_n(param + i, p, w);
  }
}

// MARK: - Weight averaging

static void k_lerp(long n, float *average, const float *value, float weight) {
  int small = weight < 0.5f;
  VF coefficient = V_SET1(small ? weight : weight - 1.0f);
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    VF a = load_n(average + i, w), v = load_n(value + i, w);
    store_n(average + i, V_FMA(coefficient, V_SUB(v, a), small ? a : v), w);
  }
}

// MARK: - Dropout masks shared by a batch

static inline VI v_mix32(VI x) {
  x = VI_XOR(x, VI_SHR(x, 16));
  x = VI_MUL(x, VI_SET1(0x7feb352du));
  x = VI_XOR(x, VI_SHR(x, 15));
  x = VI_MUL(x, VI_SET1(0x846ca68bu));
  return VI_XOR(x, VI_SHR(x, 16));
}

// The rule of recur_shared_mask_hash in VL lanes at once: lane q decides element i + q.
static void k_shared_mask(long n, uint64_t seed, double keep, const float *weight, float *mask, float *dropped) {
  uint64_t threshold = recur_keep_threshold(keep);
  int all = threshold > 0xffffffffu;
  VF kept = V_SET1((float)(1.0 / keep)), zero = V_SET1(0.0f);
  VI lo = VI_SET1((uint32_t)seed), hi = VI_SET1((uint32_t)(seed >> 32)), bound = VI_SET1((uint32_t)threshold);
  uint32_t lanes[VL];
  for (long q = 0; q < VL; q++) lanes[q] = (uint32_t)q;
  VI index = VI_LOAD(lanes), step = VI_SET1((uint32_t)VL);
  for (long i = 0; i < n; i += VL) {
    long w = chunk(n, i);
    VI h = v_mix32(VI_XOR(v_mix32(VI_XOR(index, lo)), hi));
    VF m = all ? kept : V_SELECT(VI_ULT(h, bound), kept, zero);
    store_n(mask + i, m, w);
    if (weight) store_n(dropped + i, V_MUL(load_n(weight + i, w), m), w);
    index = VI_ADD(index, step);
  }
}

// MARK: - GEMV

// Per-thread scratch memory that grows as needed and is kept for the next call.
typedef struct {
  float *data;
  size_t count;
} scratch;

// The scratch buffers of one thread: the accumulator row of gemv_columns; a strided vector operand copied
// to be contiguous (a matrix-vector product met inside GEMM); the packed blocks of A and of B. Allocated
// once per thread and size, then reused (no allocation per call once the sizes are reached), and freed
// when the thread ends (a thread-specific key's destructor), so threads that come and go leak nothing.
enum { SCRATCH_GEMV, SCRATCH_VECTOR, SCRATCH_PACK_A, SCRATCH_PACK_B, SCRATCH_KINDS };
typedef struct {
  scratch buffers[SCRATCH_KINDS];
} thread_scratch;

static _Thread_local thread_scratch *this_thread_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;
static int scratch_key_ready;

static void scratch_release(void *p) {
  thread_scratch *t = p;
  for (int q = 0; q < SCRATCH_KINDS; q++) free(t->buffers[q].data);
  free(t);
  this_thread_scratch = NULL;
}

static void scratch_make_key(void) { scratch_key_ready = pthread_key_create(&scratch_key, scratch_release) == 0; }

// `count` floats (64-byte aligned) of this thread's scratch of one kind, or NULL when the memory cannot be
// had; the contents are not kept between calls of different kernels.
static float *scratch_get(int kind, size_t count) {
  thread_scratch *t = this_thread_scratch;
  if (!t) {
    pthread_once(&scratch_key_once, scratch_make_key);
    if (!scratch_key_ready) return NULL;
    t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    if (pthread_setspecific(scratch_key, t) != 0) {
      free(t);
      return NULL;
    }
    this_thread_scratch = t;
  }
  scratch *s = &t->buffers[kind];
  if (s->count < count) {
    free(s->data);
    s->data = NULL;
    s->count = 0;
    void *p = NULL;
    if (count > SIZE_MAX / sizeof(float) || posix_memalign(&p, 64, count * sizeof(float)) != 0) return NULL;
    s->data = p;
    s->count = count;
  }
  return s->data;
}

// y[i * incy] = alpha * dot(A[i, 0:n], x) + beta * y[i * incy] for rows i in [i0, i1).
static void gemv_rows(long n, float alpha, const float *a, long lda, const float *x, float beta, float *y,
                      long incy, long i0, long i1) {
  for (long i = i0; i < i1; i++) {
    const float *row = a + i * lda;
    VF s0 = V_SET1(0.0f), s1 = s0, s2 = s0, s3 = s0;
    long p = 0;
    for (; p + 4 * VL <= n; p += 4 * VL) {
      s0 = V_FMA(V_LOAD(row + p), V_LOAD(x + p), s0);
      s1 = V_FMA(V_LOAD(row + p + VL), V_LOAD(x + p + VL), s1);
      s2 = V_FMA(V_LOAD(row + p + 2 * VL), V_LOAD(x + p + 2 * VL), s2);
      s3 = V_FMA(V_LOAD(row + p + 3 * VL), V_LOAD(x + p + 3 * VL), s3);
    }
    for (; p < n; p += VL) {
      long w = chunk(n, p);
      s0 = V_FMA(load_n(row + p, w), load_n(x + p, w), s0);
    }
    float t = alpha * V_HSUM(V_ADD(V_ADD(s0, s1), V_ADD(s2, s3)));
    float *out = y + i * incy;
    *out = beta == 0 ? t : fmaf(beta, *out, t);
  }
}

// y[j * incy] = alpha * sum_p A[p, j] x[p] + beta * y[j * incy] for columns j in [j0, j1): A is streamed
// row by row, four rows at a time, into an accumulator row that stays in L1.
static recur_status gemv_columns(long m, float alpha, const float *a, long lda, const float *x, float beta,
                                 float *y, long incy, long j0, long j1) {
  long width = j1 - j0, padded = (width + VL - 1) / VL * VL;
  float *acc = scratch_get(SCRATCH_GEMV, (size_t)padded);
  if (!acc) return RECUR_STATUS_NO_MEMORY;
  memset(acc, 0, (size_t)padded * sizeof(float));
  long p = 0;
  for (; p + 4 <= m; p += 4) {
    const float *r0 = a + p * lda + j0, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
    VF x0 = V_SET1(x[p]), x1 = V_SET1(x[p + 1]), x2 = V_SET1(x[p + 2]), x3 = V_SET1(x[p + 3]);
    long j = 0;
    for (; j + VL <= width; j += VL) {
      VF s = V_LOAD(acc + j);
      s = V_FMA(V_LOAD(r0 + j), x0, s);
      s = V_FMA(V_LOAD(r1 + j), x1, s);
      s = V_FMA(V_LOAD(r2 + j), x2, s);
      s = V_FMA(V_LOAD(r3 + j), x3, s);
      V_STORE(acc + j, s);
    }
    if (j < width) {
      long w = width - j;
      VF s = V_LOAD(acc + j);
      s = V_FMA(load_n(r0 + j, w), x0, s);
      s = V_FMA(load_n(r1 + j, w), x1, s);
      s = V_FMA(load_n(r2 + j, w), x2, s);
      s = V_FMA(load_n(r3 + j, w), x3, s);
      V_STORE(acc + j, s);
    }
  }
  for (; p < m; p++) {
    const float *r0 = a + p * lda + j0;
    VF x0 = V_SET1(x[p]);
    for (long j = 0; j < width; j += VL)
      V_STORE(acc + j, V_FMA(load_n(r0 + j, chunk(width, j)), x0, V_LOAD(acc + j)));
  }
  for (long j = 0; j < width; j++) {
    float t = alpha * acc[j];
    float *out = y + (j0 + j) * incy;
    *out = beta == 0 ? t : fmaf(beta, *out, t);
  }
  return RECUR_STATUS_OK;
}

static recur_status k_gemv(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x,
                           float beta, float *y) {
  if (trans_a) return gemv_columns(m, alpha, a, lda, x, beta, y, 1, 0, n);
  gemv_rows(n, alpha, a, lda, x, beta, y, 1, 0, m);
  return RECUR_STATUS_OK;
}

// MARK: - GEMM

// Blocking: a KC x NC block of op(B) is packed once per (jc, pc) and shared by all rows; an MC x KC block
// of op(A) is packed to stay in L2; the micro-kernel keeps an MR x NR tile of C in registers while a
// KC x NR panel of B sits in L1. K is cut into equal blocks of at most KC_MAX, a function of K alone.
#define KC_MAX 256
#define MC_BLOCK (MR * 24)
#define NC_BLOCK 4096
// When all rows fit one MC block, A is packed once per column block anyway: narrower column blocks
// then keep the packed B block in L2.
#define NC_BLOCK_FEW_ROWS 512

// The cut of K, written once: `count` blocks of `size` (the last one shorter when K is not a multiple),
// at most KC_MAX each, from K alone. Plain GEMM, the whole-B packing and packed GEMM all cut K with it,
// which is what makes packed and plain GEMM bitwise equal: each element of C is summed in the same
// blocks, in the same order. For K = 0 there is one empty block (C = beta * C).
typedef struct {
  long count, size;
} k_blocking;

static inline k_blocking k_blocks(long k) {
  long count = k > KC_MAX ? (k + KC_MAX - 1) / KC_MAX : 1;
  k_blocking kb = {count, (k + count - 1) / count};
  return kb;
}

// Block `block` of K starts at row `block * kb.size` of op(B) and has this many rows (never negative).
static inline long k_block_rows(k_blocking kb, long k, long block) {
  long rows = k - block * kb.size;
  if (rows > kb.size) rows = kb.size;
  return rows > 0 ? rows : 0;
}

// Packs rows [i, i + mr) of op(A), columns [p0, p0 + kc), as kc groups of MR (zero-padded).
static void pack_a(int trans_a, const float *a, long lda, long i, long mr, long p0, long kc, float *out) {
  if (trans_a) {
    for (long p = 0; p < kc; p++) {
      const float *src = a + (p0 + p) * lda + i;
      for (long r = 0; r < MR; r++) out[p * MR + r] = r < mr ? src[r] : 0.0f;
    }
  } else {
    for (long r = 0; r < MR; r++) {
      if (r < mr) {
        const float *src = a + (i + r) * lda + p0;
        for (long p = 0; p < kc; p++) out[p * MR + r] = src[p];
      } else {
        for (long p = 0; p < kc; p++) out[p * MR + r] = 0.0f;
      }
    }
  }
}

// Packs rows [p0, p0 + kc) of op(B), columns [j, j + nr), as kc groups of NR (zero-padded).
static void pack_b_transposed_generic(const float *b, long ldb, long j, long nr, long p0, long kc, float *out) {
  for (long c = 0; c < NR; c++) {
    if (c < nr) {
      const float *src = b + (j + c) * ldb + p0;
      for (long p = 0; p < kc; p++) out[p * NR + c] = src[p];
    } else {
      for (long p = 0; p < kc; p++) out[p * NR + c] = 0.0f;
    }
  }
}

#ifndef PREFETCH_TILE_ROW
#define PREFETCH_TILE_ROW(p) (__builtin_prefetch(p, 1), __builtin_prefetch((p) + NR - 1, 1))
#endif

#ifndef PACK_B_TRANSPOSED
#define PACK_B_TRANSPOSED pack_b_transposed_generic
#endif

// Packs rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) as NR-column panels of kc x NR each. B is
// read along its rows (op(B) = B) or columns of Bᵀ (op(B) = Bᵀ), so every source stream is sequential.
static void pack_b(int trans_b, const float *b, long ldb, long j0, long nc, long p0, long kc, float *out) {
  if (trans_b) {
    for (long jr = 0; jr < nc; jr += NR)
      PACK_B_TRANSPOSED(b, ldb, j0 + jr, nc - jr < NR ? nc - jr : NR, p0, kc, out + jr * kc);
    return;
  }
  long full = nc / NR * NR, p = 0;
  // Four rows at a time, so each panel receives 4 * NR contiguous floats per pass.
  for (; p + 4 <= kc; p += 4) {
    const float *src = b + (p0 + p) * ldb + j0;
    for (long jr = 0; jr < full; jr += NR) {
      float *dst = out + jr * kc + p * NR;
      for (long q = 0; q < 4; q++) memcpy(dst + q * NR, src + q * ldb + jr, NR * sizeof(float));
    }
    if (full < nc) {
      for (long q = 0; q < 4; q++) {
        float *dst = out + full * kc + (p + q) * NR;
        memcpy(dst, src + q * ldb + full, (size_t)(nc - full) * sizeof(float));
        memset(dst + (nc - full), 0, (size_t)(NR - (nc - full)) * sizeof(float));
      }
    }
  }
  for (; p < kc; p++) {
    const float *src = b + (p0 + p) * ldb + j0;
    for (long jr = 0; jr < full; jr += NR) memcpy(out + jr * kc + p * NR, src + jr, NR * sizeof(float));
    if (full < nc) {
      float *dst = out + full * kc + p * NR;
      memcpy(dst, src + full, (size_t)(nc - full) * sizeof(float));
      memset(dst + (nc - full), 0, (size_t)(NR - (nc - full)) * sizeof(float));
    }
  }
}

#ifndef MICRO_KERNEL
// acc[r * NR + c] = sum_p ap[p * MR + r] * bp[p * NR + c], one fused multiply-add per step in p order.
static void micro_generic(long kc, const float *ap, const float *bp, float *acc) {
  VF t[MR][NR / VL];
  for (long r = 0; r < MR; r++)
    for (long v = 0; v < NR / VL; v++) t[r][v] = V_SET1(0.0f);
  for (long p = 0; p < kc; p++) {
    VF bv[NR / VL];
    for (long v = 0; v < NR / VL; v++) bv[v] = V_LOAD(bp + p * NR + v * VL);
    for (long r = 0; r < MR; r++) {
      VF av = V_SET1(ap[p * MR + r]);
      for (long v = 0; v < NR / VL; v++) t[r][v] = V_FMA(av, bv[v], t[r][v]);
    }
  }
  for (long r = 0; r < MR; r++)
    for (long v = 0; v < NR / VL; v++) V_STORE(acc + r * NR + v * VL, t[r][v]);
}
#define MICRO_KERNEL micro_generic
#endif

// C tile (mr x nr at c) = alpha * acc + beta * C tile, reading C only when beta != 0.
static void store_tile(const float *acc, float *c, long ldc, long mr, long nr, float alpha, float beta) {
  if (nr == NR) {
    VF va = V_SET1(alpha), vb = V_SET1(beta);
    for (long r = 0; r < mr; r++) {
      for (long v = 0; v < NR; v += VL) {
        VF t = V_MUL(va, V_LOAD(acc + r * NR + v));
        if (beta != 0) t = V_FMA(vb, V_LOAD(c + r * ldc + v), t);
        V_STORE(c + r * ldc + v, t);
      }
    }
    return;
  }
  for (long r = 0; r < mr; r++) {
    for (long q = 0; q < nr; q++) {
      float t = alpha * acc[r * NR + q];
      float *out = c + r * ldc + q;
      *out = beta == 0 ? t : fmaf(beta, *out, t);
    }
  }
}

static recur_status gemm_blocked(int trans_a, int trans_b, long k, float alpha, const float *a, long lda,
                                 const float *b, long ldb, float beta, float *c, long ldc, long i0, long i1, long j0,
                                 long j1) {
  k_blocking kb = k_blocks(k);
  long nc_block = i1 - i0 <= MC_BLOCK ? NC_BLOCK_FEW_ROWS : NC_BLOCK;
  long nc_max = j1 - j0 < nc_block ? j1 - j0 : nc_block;
  long kc_alloc = kb.size > 0 ? kb.size : 1;
  float *bp = scratch_get(SCRATCH_PACK_B, (size_t)kc_alloc * (size_t)((nc_max + NR - 1) / NR * NR));
  float *ap = scratch_get(SCRATCH_PACK_A, (size_t)kc_alloc * MC_BLOCK);
  if (!bp || !ap) return RECUR_STATUS_NO_MEMORY;
  _Alignas(64) float acc[MR * NR];
  for (long jc = j0; jc < j1; jc += nc_block) {
    long nc = j1 - jc < nc_block ? j1 - jc : nc_block;
    for (long pb = 0; pb < kb.count; pb++) {
      long pc = pb * kb.size, kc = k_block_rows(kb, k, pb);
      float beta_block = pb == 0 ? beta : 1.0f;
      pack_b(trans_b, b, ldb, jc, nc, pc, kc, bp);
      for (long ic = i0; ic < i1; ic += MC_BLOCK) {
        long mc = i1 - ic < MC_BLOCK ? i1 - ic : MC_BLOCK;
        for (long ir = 0; ir < mc; ir += MR)
          pack_a(trans_a, a, lda, ic + ir, mc - ir < MR ? mc - ir : MR, pc, kc, ap + ir * kc);
        for (long jr = 0; jr < nc; jr += NR) {
          long nr = nc - jr < NR ? nc - jr : NR;
          for (long ir = 0; ir < mc; ir += MR) {
            long mr = mc - ir < MR ? mc - ir : MR;
            float *tile = c + (ic + ir) * ldc + jc + jr;
            for (long r = 0; r < mr; r++) PREFETCH_TILE_ROW(tile + r * ldc);
#ifdef MICRO_KERNEL_4
            if (mr <= 4)
              MICRO_KERNEL_4(kc, ap + ir * kc, bp + jr * kc, acc);
            else
#endif
              MICRO_KERNEL(kc, ap + ir * kc, bp + jr * kc, acc);
            store_tile(acc, tile, ldc, mr, nr, alpha, beta_block);
          }
        }
      }
    }
  }
  return RECUR_STATUS_OK;
}

// MARK: - GEMM with op(B) packed once

// A product whose B operand is the same for many calls (the recurrent weight W_hh, used once per time
// step) packs op(B) once, whole, in the layout gemm_blocked packs it block by block: for each block of K
// (cut exactly as gemm_blocked cuts it, from K alone) at row pc, the NR-column panels of kc x NR follow
// each other from packed + pc * npad, npad being N rounded up to NR. Every element of C is then computed
// with the same operations in the same order as by gemm_blocked, so the results are bitwise equal.
static long k_packed_b_size(long n, long k) {
  long npad = (n + NR - 1) / NR * NR;
  return (k > 0 ? k : 1) * (npad > 0 ? npad : NR);
}

static void k_pack_b_whole(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
  k_blocking kb = k_blocks(k);
  long npad = (n + NR - 1) / NR * NR;
  for (long pb = 0; pb < kb.count; pb++) {
    long pc = pb * kb.size, kc = k_block_rows(kb, k, pb);
    if (kc == 0) continue;
    pack_b(trans_b, b, ldb, 0, n, pc, kc, packed + pc * npad);
  }
}

// C[i0:i1, j0:j1] of C = alpha op(A) B + beta C with B packed by k_pack_b_whole; j0 is a multiple of NR.
static recur_status k_gemm_packed_slice(int trans_a, long m, long n, long k, float alpha, const float *a,
                                        long lda, const float *packed, float beta, float *c, long ldc, long i0,
                                        long i1, long j0, long j1) {
  (void)m;
  if (i0 >= i1 || j0 >= j1) return RECUR_STATUS_OK;
  k_blocking kb = k_blocks(k);
  long npad = (n + NR - 1) / NR * NR;
  long kc_alloc = kb.size > 0 ? kb.size : 1;
  float *ap = scratch_get(SCRATCH_PACK_A, (size_t)kc_alloc * MC_BLOCK);
  if (!ap) return RECUR_STATUS_NO_MEMORY;
  _Alignas(64) float acc[MR * NR];
  for (long pb = 0; pb < kb.count; pb++) {
    long pc = pb * kb.size, kc = k_block_rows(kb, k, pb);
    float beta_block = pb == 0 ? beta : 1.0f;
    const float *block = packed + pc * npad;
    for (long ic = i0; ic < i1; ic += MC_BLOCK) {
      long mc = i1 - ic < MC_BLOCK ? i1 - ic : MC_BLOCK;
      for (long ir = 0; ir < mc; ir += MR)
        pack_a(trans_a, a, lda, ic + ir, mc - ir < MR ? mc - ir : MR, pc, kc, ap + ir * kc);
      for (long jr = j0; jr < j1; jr += NR) {
        long nr = j1 - jr < NR ? j1 - jr : NR;
        const float *bp = block + jr * kc;
        for (long ir = 0; ir < mc; ir += MR) {
          long mr = mc - ir < MR ? mc - ir : MR;
          float *tile = c + (ic + ir) * ldc + jr;
          for (long r = 0; r < mr; r++) PREFETCH_TILE_ROW(tile + r * ldc);
#ifdef MICRO_KERNEL_4
          if (mr <= 4)
            MICRO_KERNEL_4(kc, ap + ir * kc, bp, acc);
          else
#endif
            MICRO_KERNEL(kc, ap + ir * kc, bp, acc);
          store_tile(acc, tile, ldc, mr, nr, alpha, beta_block);
        }
      }
    }
  }
  return RECUR_STATUS_OK;
}

static recur_status k_gemm_slice(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a,
                                 long lda, const float *b, long ldb, float beta, float *c, long ldc, long i0, long i1,
                                 long j0, long j1) {
  if (i0 >= i1 || j0 >= j1) return RECUR_STATUS_OK;
  if (m == 1 || n == 1) {
    // A matrix-vector product: stream the matrix once. x is copied when it is strided.
    int row = m == 1;  // C is one row: c = op(B)^T a; else one column: c = op(A) b.
    const float *mat = row ? b : a;
    long ldm = row ? ldb : lda;
    int mat_trans = row ? !trans_b : trans_a;  // the product is op'(mat) x with op' = transpose or not
    const float *xs = row ? a : b;
    long incx = row ? (trans_a ? lda : 1) : (trans_b ? 1 : ldb);
    const float *x = xs;
    if (incx != 1 && k > 0) {
      float *copy = scratch_get(SCRATCH_VECTOR, (size_t)k);
      if (!copy) return RECUR_STATUS_NO_MEMORY;
      for (long p = 0; p < k; p++) copy[p] = xs[p * incx];
      x = copy;
    }
    long incy = row ? 1 : ldc;
    float *y = row ? c + j0 : c + i0 * ldc;
    long o0 = row ? j0 : i0, o1 = row ? j1 : i1;
    if (mat_trans) return gemv_columns(k, alpha, mat + o0, ldm, x, beta, y, incy, 0, o1 - o0);
    gemv_rows(k, alpha, mat + o0 * ldm, ldm, x, beta, y, incy, 0, o1 - o0);
    return RECUR_STATUS_OK;
  }
  return gemm_blocked(trans_a, trans_b, k, alpha, a, lda, b, ldb, beta, c, ldc, i0, i1, j0, j1);
}

// MARK: - The table

const recur_f32_kernels KERNEL_TABLE = {
    .name = KERNEL_NAME,
    .mr = MR,
    .nr = NR,
    .kc_max = KC_MAX,
    .mc_block = MC_BLOCK,
    .nc_block = NC_BLOCK,
    .nc_block_few_rows = NC_BLOCK_FEW_ROWS,
    .activate = k_activate,
    .activate_backward = k_activate_backward,
    .gemm_slice = k_gemm_slice,
    .packed_b_size = k_packed_b_size,
    .pack_b_whole = k_pack_b_whole,
    .gemm_packed_slice = k_gemm_packed_slice,
    .gemv = k_gemv,
    .add_row_vector = k_add_row_vector,
    .sum_rows = k_sum_rows,
    .rnn_forward = k_rnn_forward,
    .rnn_backward = k_rnn_backward,
    .gated_forward = k_gated_forward,
    .gated_backward = k_gated_backward,
    .lstm_forward = k_lstm_forward,
    .lstm_backward = k_lstm_backward,
    .gru_forward = k_gru_forward,
    .gru_backward = k_gru_backward,
    .softmax = k_softmax,
    .softmax_xent = k_softmax_xent,
    .adam = k_adam,
    .lerp = k_lerp,
    .shared_mask = k_shared_mask,
};

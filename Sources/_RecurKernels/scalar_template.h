// The plain scalar kernels, written once for both precisions. Included by scalar.c with
//   T       the scalar type (float or double)
//   NAME(x) the function name for kernel x (recur_x_f32_scalar or recur_x_f64)
//   EXP, TANH, LOG the libm functions of that precision
// Every vectorized kernel is tested against the float instance of these.

static inline T NAME(sigmoid1)(T x) {
  // Evaluated on the side where exp cannot overflow.
  if (x >= 0) {
    T e = EXP(-x);
    return (T)1 / ((T)1 + e);
  }
  T e = EXP(x);
  return e / ((T)1 + e);
}

static inline T NAME(act1)(recur_activation act, T x) {
  switch (act) {
  case RECUR_ACT_TANH: return TANH(x);
  case RECUR_ACT_SIGMOID: return NAME(sigmoid1)(x);
  case RECUR_ACT_RELU: return x > 0 ? x : (T)0;
  default: return x;
  }
}

/* Derivative of the activation, from its output y. */
static inline T NAME(dact1)(recur_activation act, T y) {
  switch (act) {
  case RECUR_ACT_TANH: return (T)1 - y * y;
  case RECUR_ACT_SIGMOID: return y * ((T)1 - y);
  case RECUR_ACT_RELU: return y > 0 ? (T)1 : (T)0;
  default: return (T)1;
  }
}

void NAME(activate)(long n, recur_activation act, const T *x, T *y) {
  for (long i = 0; i < n; i++) y[i] = NAME(act1)(act, x[i]);
}

void NAME(activate_backward)(long n, recur_activation act, const T *y, const T *dy, T *dx) {
  for (long i = 0; i < n; i++) dx[i] = dy[i] * NAME(dact1)(act, y[i]);
}

void NAME(gemm)(int trans_a, int trans_b, long m, long n, long k, T alpha, const T *a, long lda, const T *b,
                long ldb, T beta, T *c, long ldc) {
  for (long i = 0; i < m; i++) {
    for (long j = 0; j < n; j++) {
      T sum = 0;
      for (long p = 0; p < k; p++) {
        T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      T prior = beta == 0 ? (T)0 : beta * c[i * ldc + j];
      c[i * ldc + j] = alpha * sum + prior;
    }
  }
}

void NAME(gemv)(int trans_a, long m, long n, T alpha, const T *a, long lda, const T *x, T beta, T *y) {
  long outs = trans_a ? n : m, ins = trans_a ? m : n;
  for (long i = 0; i < outs; i++) {
    T sum = 0;
    for (long p = 0; p < ins; p++) sum += (trans_a ? a[p * lda + i] : a[i * lda + p]) * x[p];
    y[i] = alpha * sum + (beta == 0 ? (T)0 : beta * y[i]);
  }
}

void NAME(add_row_vector)(long rows, long width, const T *bias, T beta, T *c, long ldc) {
  for (long i = 0; i < rows; i++)
    for (long j = 0; j < width; j++) c[i * ldc + j] = (beta == 0 ? (T)0 : c[i * ldc + j]) + bias[j];
}

void NAME(sum_rows)(long rows, long width, const T *a, long lda, T *out) {
  for (long i = 0; i < rows; i++)
    for (long j = 0; j < width; j++) out[j] += a[i * lda + j];
}

void NAME(rnn_forward)(long batch, long hidden, recur_activation act, const T *xp, const T *hp, T *h) {
  for (long i = 0; i < batch * hidden; i++) h[i] = NAME(act1)(act, xp[i] + hp[i]);
}

void NAME(rnn_backward)(long batch, long hidden, recur_activation act, const T *h, const T *dh, T *dpre) {
  for (long i = 0; i < batch * hidden; i++) dpre[i] = dh[i] * NAME(dact1)(act, h[i]);
}

void NAME(gated_forward)(long batch, long hidden, recur_activation act, const T *xp, const T *hp,
                         const T *h_prev, T *h, T *cache) {
  long H = hidden, G = 2 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *x = xp + b * G, *r = hp + b * G;
    T *cc = cache + b * G;
    for (long j = 0; j < H; j++) {
      T g = NAME(sigmoid1)(x[j] + r[j]);
      T cand = NAME(act1)(act, x[H + j] + r[H + j]);
      T prev = h_prev[b * H + j];
      cc[j] = g;
      cc[H + j] = cand;
      h[b * H + j] = ((T)1 - g) * prev + g * cand;
    }
  }
}

void NAME(gated_backward)(long batch, long hidden, recur_activation act, const T *cache, const T *h_prev,
                          const T *dh, T *dpre, T *dh_prev) {
  long H = hidden, G = 2 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *cc = cache + b * G;
    T *d = dpre + b * G;
    for (long j = 0; j < H; j++) {
      T g = cc[j], cand = cc[H + j], prev = h_prev[b * H + j], dhj = dh[b * H + j];
      // h = (1 - g) * prev + g * cand
      d[j] = dhj * (cand - prev) * g * ((T)1 - g);
      d[H + j] = dhj * g * NAME(dact1)(act, cand);
      dh_prev[b * H + j] = dhj * ((T)1 - g);
    }
  }
}

void NAME(lstm_forward)(long batch, long hidden, const T *xp, const T *hp, const T *c_prev, T *c, T *h,
                        T *gates) {
  long H = hidden, G = 4 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *x = xp + b * G, *r = hp + b * G;
    T *gt = gates + b * G;
    for (long j = 0; j < H; j++) {
      T i = NAME(sigmoid1)(x[j] + r[j]);
      T f = NAME(sigmoid1)(x[H + j] + r[H + j]);
      T g = TANH(x[2 * H + j] + r[2 * H + j]);
      T o = NAME(sigmoid1)(x[3 * H + j] + r[3 * H + j]);
      T cn = f * c_prev[b * H + j] + i * g;
      c[b * H + j] = cn;
      h[b * H + j] = o * TANH(cn);
      gt[j] = i;
      gt[H + j] = f;
      gt[2 * H + j] = g;
      gt[3 * H + j] = o;
    }
  }
}

void NAME(lstm_backward)(long batch, long hidden, const T *gates, const T *c_prev, const T *c, const T *dh,
                         const T *dc, T *dgates, T *dc_prev) {
  long H = hidden, G = 4 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *gt = gates + b * G;
    T *d = dgates + b * G;
    for (long j = 0; j < H; j++) {
      long k = b * H + j;
      T i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
      T tc = TANH(c[k]);
      // h = o * tanh(c);  c = f * c_prev + i * g
      T dcTotal = dh[k] * o * ((T)1 - tc * tc) + (dc ? dc[k] : (T)0);
      d[j] = dcTotal * g * i * ((T)1 - i);
      d[H + j] = dcTotal * c_prev[k] * f * ((T)1 - f);
      d[2 * H + j] = dcTotal * i * ((T)1 - g * g);
      d[3 * H + j] = dh[k] * tc * o * ((T)1 - o);
      dc_prev[k] = dcTotal * f;
    }
  }
}

void NAME(gru_forward)(long batch, long hidden, const T *xp, const T *hp, const T *h_prev, T *h, T *cache) {
  long H = hidden, G = 3 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *x = xp + b * G, *p = hp + b * G;
    T *cc = cache + b * 4 * H;
    for (long j = 0; j < H; j++) {
      T r = NAME(sigmoid1)(x[j] + p[j]);
      T z = NAME(sigmoid1)(x[H + j] + p[H + j]);
      T hn = p[2 * H + j];
      T n = TANH(x[2 * H + j] + r * hn);
      h[b * H + j] = ((T)1 - z) * n + z * h_prev[b * H + j];
      cc[j] = r;
      cc[H + j] = z;
      cc[2 * H + j] = n;
      cc[3 * H + j] = hn;
    }
  }
}

void NAME(gru_backward)(long batch, long hidden, const T *cache, const T *h_prev, const T *dh, T *dxp, T *dhp,
                        T *dh_prev) {
  long H = hidden, G = 3 * hidden;
  for (long b = 0; b < batch; b++) {
    const T *cc = cache + b * 4 * H;
    T *dx = dxp + b * G, *dp = dhp + b * G;
    for (long j = 0; j < H; j++) {
      long k = b * H + j;
      T r = cc[j], z = cc[H + j], n = cc[2 * H + j], hn = cc[3 * H + j];
      // h = (1 - z) * n + z * h_prev;  n = tanh(xn + r * hn)
      T dn = dh[k] * ((T)1 - z) * ((T)1 - n * n);
      T dz = dh[k] * (h_prev[k] - n) * z * ((T)1 - z);
      T dr = dn * hn * r * ((T)1 - r);
      dx[j] = dr;
      dx[H + j] = dz;
      dx[2 * H + j] = dn;
      dp[j] = dr;
      dp[H + j] = dz;
      dp[2 * H + j] = dn * r;
      dh_prev[k] = dh[k] * z;
    }
  }
}

void NAME(softmax)(long rows, long vocab, const T *logits, T *probs) {
  for (long i = 0; i < rows; i++) {
    const T *l = logits + i * vocab;
    T *p = probs + i * vocab;
    T mx = l[0];
    for (long j = 1; j < vocab; j++) mx = l[j] > mx ? l[j] : mx;
    T sum = 0;
    for (long j = 0; j < vocab; j++) {
      p[j] = EXP(l[j] - mx);
      sum += p[j];
    }
    T inv = (T)1 / sum;
    for (long j = 0; j < vocab; j++) p[j] *= inv;
  }
}

double NAME(softmax_xent)(long rows, long vocab, const T *logits, const int32_t *targets, const T *weights,
                          T scale, T *dlogits) {
  double total = 0;
  for (long i = 0; i < rows; i++) {
    const T *l = logits + i * vocab;
    T w = weights ? weights[i] : (T)1;
    int32_t t = targets[i];
    if (t < 0 || t >= vocab || w == 0) {
      if (dlogits)
        for (long j = 0; j < vocab; j++) dlogits[i * vocab + j] = 0;
      continue;
    }
    T mx = l[0];
    for (long j = 1; j < vocab; j++) mx = l[j] > mx ? l[j] : mx;
    double sum = 0;
    for (long j = 0; j < vocab; j++) sum += (double)EXP(l[j] - mx);
    double lse = (double)mx + log(sum);
    total += (double)w * (lse - (double)l[t]);
    if (dlogits) {
      T inv = (T)(1.0 / sum);
      for (long j = 0; j < vocab; j++) {
        T p = EXP(l[j] - mx) * inv;
        dlogits[i * vocab + j] = scale * w * (p - (j == t ? (T)1 : (T)0));
      }
    }
  }
  return total;
}

void NAME(adam)(long n, T *param, const T *grad, T *m, T *v, T lr, T beta1, T beta2, T eps, T weight_decay,
                int decoupled, T bias_correction1, T bias_correction2) {
  for (long i = 0; i < n; i++) {
    T g = grad[i];
    if (decoupled)
      param[i] -= lr * weight_decay * param[i];
    else
      g += weight_decay * param[i];
    m[i] = beta1 * m[i] + ((T)1 - beta1) * g;
    v[i] = beta2 * v[i] + ((T)1 - beta2) * g * g;
    T mhat = m[i] / bias_correction1;
    T denom = SQRT(v[i] / bias_correction2) + eps;
    param[i] -= lr * mhat / denom;
  }
}

void NAME(lerp)(long n, T *average, const T *value, T weight) {
  // lerp(a, v, w): a + w (v − a) for w < ½, v + (w − 1)(v − a) otherwise, each with one rounding (fma).
  if (weight < (T)0.5) {
    for (long i = 0; i < n; i++) average[i] = FMA(weight, value[i] - average[i], average[i]);
  } else {
    T keep = weight - (T)1;
    for (long i = 0; i < n; i++) average[i] = FMA(keep, value[i] - average[i], value[i]);
  }
}

void NAME(shared_mask)(long n, uint64_t seed, double keep, const T *weight, T *mask, T *dropped) {
  // Kept when mix32(mix32(i ^ lo) ^ hi) < round(keep * 2^32) (recur_kernels.h).
  uint64_t threshold = recur_keep_threshold(keep);
  T kept = (T)(1.0 / keep);
  for (long i = 0; i < n; i++) {
    T m = (uint64_t)recur_shared_mask_hash(seed, (uint32_t)i) < threshold ? kept : (T)0;
    mask[i] = m;
    if (weight) dropped[i] = weight[i] * m;
  }
}

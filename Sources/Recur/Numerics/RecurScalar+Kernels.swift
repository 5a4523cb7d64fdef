// The compute core behind RecurScalar: each kernel calls its C function for Float or for Double.
import _RecurKernels

/// `Float` computes through the vectorized single-precision kernels (AVX2+FMA, NEON or scalar, chosen once
/// at run time).
extension Float: RecurScalar {
  public static var dtypeName: String { "F32" }
}

/// `Double` computes through the scalar double-precision kernels, for gradient checks against finite
/// differences.
extension Double: RecurScalar {
  public static var dtypeName: String { "F64" }
}

/// The kernels of the compute core over raw row-major buffers, internal to Recur (library code calls them
/// with pointers into ``Tensor`` and workspace storage). `RecurScalar` is `Float` or `Double`: each kernel
/// picks its C function by the type, a branch that specialization removes.
extension RecurScalar {
  /// C = alpha · op(A) · op(B) + beta · C (row-major; see `recur_sgemm`).
  static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int) {
    if Self.self == Float.self {
      let (alpha, a, b, beta, c) = (alpha.f32, a.f32, b.f32, beta.f32, c.f32)
      Compute.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    } else {
      let (alpha, a, b, beta, c) = (alpha.f64, a.f64, b.f64, beta.f64, c.f64)
      recur_dgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
  }

  /// The number of scalars op(B) (K × N) takes once packed by ``packMatrix(transposeB:n:k:b:ldb:packed:)``.
  static func packedMatrixCount(n: Int, k: Int) -> Int {
    if Self.self == Float.self {
      return recur_sgemm_packed_b_size(n, k)
    } else {
      return max(1, n * k)
    }
  }

  /// Packs op(B) (K × N) once for ``gemmPacked(transposeA:m:n:k:alpha:a:lda:packed:beta:c:ldc:threads:)``: for a
  /// B operand reused by many products, such as W_hh once per time step. `packed` must hold
  /// ``packedMatrixCount(n:k:)`` scalars and be 64-byte aligned.
  static func packMatrix(transposeB: Bool, n: Int, k: Int, b: UnsafePointer<Self>, ldb: Int, packed: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (b, packed) = (b.f32, packed.f32)
      recur_sgemm_pack_b(transposeB ? 1 : 0, n, k, b, ldb, packed)
    } else {
      let (b, packed) = (b.f64, packed.f64)
      for p in 0..<k {
        for j in 0..<n { packed[p * n + j] = transposeB ? b[j * ldb + p] : b[p * ldb + j] }
      }
    }
  }

  /// C = alpha · op(A) · op(B) + beta · C with op(B) packed by ``packMatrix(transposeB:n:k:b:ldb:packed:)``;
  /// bitwise the same as ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` when M, N > 1.
  /// `threads` caps the threads the product may use (nil: `Compute.threadCount`; 1 when the caller is
  /// already one of several threads).
  static func gemmPacked(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, packed: UnsafePointer<Self>, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, threads: Int?) {
    if Self.self == Float.self {
      let (alpha, a, packed, beta, c) = (alpha.f32, a.f32, packed.f32, beta.f32, c.f32)
      Compute.sgemmPacked(transposeA: transposeA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packed: packed, beta: beta, c: c, ldc: ldc, threads: threads)
    } else {
      // The packed op(B) of Double is op(B) itself, copied as a K × N matrix.
      let (alpha, a, packed, beta, c) = (alpha.f64, a.f64, packed.f64, beta.f64, c.f64)
      recur_dgemm(transposeA ? 1 : 0, 0, m, n, k, alpha, a, lda, packed, max(n, 1), beta, c, ldc)
    }
  }

  /// y = alpha · op(A) · x + beta · y.
  static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (alpha, a, x, beta, y) = (alpha.f32, a.f32, x.f32, beta.f32, y.f32)
      checkKernelStatus(recur_sgemv(transposeA ? 1 : 0, m, n, alpha, a, lda, x, beta, y), "recur_sgemv")
    } else {
      let (alpha, a, x, beta, y) = (alpha.f64, a.f64, x.f64, beta.f64, y.f64)
      recur_dgemv(transposeA ? 1 : 0, m, n, alpha, a, lda, x, beta, y)
    }
  }

  /// y = act(x), element-wise.
  static func activate(_ act: Activation, count: Int, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (x, y) = (x.f32, y.f32)
      recur_activate_f32(count, act.kernel, x, y)
    } else {
      let (x, y) = (x.f64, y.f64)
      recur_activate_f64(count, act.kernel, x, y)
    }
  }

  /// dx = dy · act'(from output y), element-wise.
  static func activateBackward(_ act: Activation, count: Int, y: UnsafePointer<Self>, dy: UnsafePointer<Self>, dx: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (y, dy, dx) = (y.f32, dy.f32, dx.f32)
      recur_activate_backward_f32(count, act.kernel, y, dy, dx)
    } else {
      let (y, dy, dx) = (y.f64, dy.f64, dx.f64)
      recur_activate_backward_f64(count, act.kernel, y, dy, dx)
    }
  }

  /// Each row of C gets `vector` added (beta = 1) or set (beta = 0).
  static func addRowVector(rows: Int, width: Int, vector: UnsafePointer<Self>, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int) {
    if Self.self == Float.self {
      let (vector, beta, c) = (vector.f32, beta.f32, c.f32)
      recur_add_row_vector_f32(rows, width, vector, beta, c, ldc)
    } else {
      let (vector, beta, c) = (vector.f64, beta.f64, c.f64)
      recur_add_row_vector_f64(rows, width, vector, beta, c, ldc)
    }
  }

  /// out += column sums of A.
  static func sumRows(rows: Int, width: Int, a: UnsafePointer<Self>, lda: Int, out: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (a, out) = (a.f32, out.f32)
      recur_sum_rows_f32(rows, width, a, lda, out)
    } else {
      let (a, out) = (a.f64, out.f64)
      recur_sum_rows_f64(rows, width, a, lda, out)
    }
  }

  /// The chapter's RNN step for B rows: s_t = f_s(xp + hp), with xp + hp = z^1_t.
  ///
  /// Shapes: `xp`, `hp`, `h` are B × H.
  static func rnnForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (xp, hp, h) = (xp.f32, hp.f32, h.f32)
      recur_rnn_forward_f32(batch, hidden, act.kernel, xp, hp, h)
    } else {
      let (xp, hp, h) = (xp.f64, hp.f64, h.f64)
      recur_rnn_forward_f64(batch, hidden, act.kernel, xp, hp, h)
    }
  }

  /// The backward step of ``rnnForward(batch:hidden:act:xp:hp:h:)``: dpre = dh ∗ f_s'(z^1_t), the
  /// derivative taken from the output s_t = `h`.
  ///
  /// Shapes: `h`, `dh`, `dpre` are B × H.
  static func rnnBackward(batch: Int, hidden: Int, act: Activation, h: UnsafePointer<Self>, dh: UnsafePointer<Self>, dpre: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (h, dh, dpre) = (h.f32, dh.f32, dpre.f32)
      recur_rnn_backward_f32(batch, hidden, act.kernel, h, dh, dpre)
    } else {
      let (h, dh, dpre) = (h.f64, dh.f64, dpre.f64)
      recur_rnn_backward_f64(batch, hidden, act.kernel, h, dh, dpre)
    }
  }

  /// The chapter's gated RNN step for B rows, gate order (g, candidate):
  /// g = sigmoid(xp_g + hp_g), c = f_s(xp_c + hp_c), s_t = (1 − g) ∗ s_{t−1} + g ∗ c.
  ///
  /// Shapes: `xp`, `hp` are B × 2H; `hPrev`, `h` are B × H; `cache` (B × 2H) receives g and c.
  static func gatedForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (xp, hp, hPrev, h, cache) = (xp.f32, hp.f32, hPrev.f32, h.f32, cache.f32)
      recur_gated_forward_f32(batch, hidden, act.kernel, xp, hp, hPrev, h, cache)
    } else {
      let (xp, hp, hPrev, h, cache) = (xp.f64, hp.f64, hPrev.f64, h.f64, cache.f64)
      recur_gated_forward_f64(batch, hidden, act.kernel, xp, hp, hPrev, h, cache)
    }
  }

  /// The backward step of ``gatedForward(batch:hidden:act:xp:hp:hPrev:h:cache:)``: the gradients of the gate
  /// and candidate pre-activations into `dpre` (B × 2H) and the direct path dhPrev = dh ∗ (1 − g) (B × H).
  static func gatedBackward(batch: Int, hidden: Int, act: Activation, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafePointer<Self>, dpre: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (cache, hPrev, dh, dpre, dhPrev) = (cache.f32, hPrev.f32, dh.f32, dpre.f32, dhPrev.f32)
      recur_gated_backward_f32(batch, hidden, act.kernel, cache, hPrev, dh, dpre, dhPrev)
    } else {
      let (cache, hPrev, dh, dpre, dhPrev) = (cache.f64, hPrev.f64, dh.f64, dpre.f64, dhPrev.f64)
      recur_gated_backward_f64(batch, hidden, act.kernel, cache, hPrev, dh, dpre, dhPrev)
    }
  }

  /// The LSTM step for B rows, PyTorch's equations and gate order (i, f, g, o): i, f, o = sigmoid, g = tanh of
  /// xp + hp; c_t = f ∗ c_{t−1} + i ∗ g; h_t = o ∗ tanh(c_t).
  ///
  /// Shapes: `xp`, `hp` are B × 4H; `cPrev`, `c`, `h` are B × H; `gates` (B × 4H) receives the activated
  /// i, f, g, o.
  static func lstmForward(batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, cPrev: UnsafePointer<Self>, c: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>, gates: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (xp, hp, cPrev, c, h, gates) = (xp.f32, hp.f32, cPrev.f32, c.f32, h.f32, gates.f32)
      recur_lstm_forward_f32(batch, hidden, xp, hp, cPrev, c, h, gates)
    } else {
      let (xp, hp, cPrev, c, h, gates) = (xp.f64, hp.f64, cPrev.f64, c.f64, h.f64, gates.f64)
      recur_lstm_forward_f64(batch, hidden, xp, hp, cPrev, c, h, gates)
    }
  }

  /// The backward step of ``lstmForward(batch:hidden:xp:hp:cPrev:c:h:gates:)``: from dh = dL/dh_t and
  /// dc = dL/dc_t from the future (nil for zero), the pre-activation gradients `dgates` (B × 4H, the same for
  /// xp and hp) and dcPrev = dL/dc_{t−1} (B × H).
  static func lstmBackward(batch: Int, hidden: Int, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>, c: UnsafePointer<Self>, dh: UnsafePointer<Self>, dc: UnsafePointer<Self>?, dgates: UnsafeMutablePointer<Self>, dcPrev: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (gates, cPrev, c, dh, dc, dgates, dcPrev) = (gates.f32, cPrev.f32, c.f32, dh.f32, dc.map(\.f32), dgates.f32, dcPrev.f32)
      recur_lstm_backward_f32(batch, hidden, gates, cPrev, c, dh, dc, dgates, dcPrev)
    } else {
      let (gates, cPrev, c, dh, dc, dgates, dcPrev) = (gates.f64, cPrev.f64, c.f64, dh.f64, dc.map(\.f64), dgates.f64, dcPrev.f64)
      recur_lstm_backward_f64(batch, hidden, gates, cPrev, c, dh, dc, dgates, dcPrev)
    }
  }

  /// The GRU step for B rows, PyTorch's equations and gate order (r, z, n): r = sigmoid(xp_r + hp_r),
  /// z = sigmoid(xp_z + hp_z), n = tanh(xp_n + r ∗ hp_n), h_t = (1 − z) ∗ n + z ∗ h_{t−1}.
  ///
  /// Shapes: `xp`, `hp` are B × 3H; `hPrev`, `h` are B × H; `cache` (B × 4H) receives r, z, n and hp_n.
  static func gruForward(batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (xp, hp, hPrev, h, cache) = (xp.f32, hp.f32, hPrev.f32, h.f32, cache.f32)
      recur_gru_forward_f32(batch, hidden, xp, hp, hPrev, h, cache)
    } else {
      let (xp, hp, hPrev, h, cache) = (xp.f64, hp.f64, hPrev.f64, h.f64, cache.f64)
      recur_gru_forward_f64(batch, hidden, xp, hp, hPrev, h, cache)
    }
  }

  /// The backward step of ``gruForward(batch:hidden:xp:hp:hPrev:h:cache:)``: `dxp` and `dhp` (B × 3H; they
  /// differ in the n block, which the reset gate scales) and the direct path dhPrev = dh ∗ z (B × H).
  static func gruBackward(batch: Int, hidden: Int, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafePointer<Self>, dxp: UnsafeMutablePointer<Self>, dhp: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (cache, hPrev, dh, dxp, dhp, dhPrev) = (cache.f32, hPrev.f32, dh.f32, dxp.f32, dhp.f32, dhPrev.f32)
      recur_gru_backward_f32(batch, hidden, cache, hPrev, dh, dxp, dhp, dhPrev)
    } else {
      let (cache, hPrev, dh, dxp, dhp, dhPrev) = (cache.f64, hPrev.f64, dh.f64, dxp.f64, dhp.f64, dhPrev.f64)
      recur_gru_backward_f64(batch, hidden, cache, hPrev, dh, dxp, dhp, dhPrev)
    }
  }

  /// Row-wise softmax of `logits` (N × V) into `probs`, with the maximum subtracted for stability; the two
  /// may alias.
  static func softmax(rows: Int, vocab: Int, logits: UnsafePointer<Self>, probs: UnsafeMutablePointer<Self>) {
    if Self.self == Float.self {
      let (logits, probs) = (logits.f32, probs.f32)
      recur_softmax_f32(rows, vocab, logits, probs)
    } else {
      let (logits, probs) = (logits.f64, probs.f64)
      recur_softmax_f64(rows, vocab, logits, probs)
    }
  }

  /// Softmax cross-entropy; returns the weighted sum of losses (see `recur_softmax_xent_f32`).
  static func softmaxCrossEntropy(rows: Int, vocab: Int, logits: UnsafePointer<Self>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Self>?, scale: Self, dlogits: UnsafeMutablePointer<Self>?) -> Double {
    if Self.self == Float.self {
      let (logits, weights, scale, dlogits) = (logits.f32, weights.map(\.f32), scale.f32, dlogits.map(\.f32))
      return recur_softmax_xent_f32(rows, vocab, logits, targets, weights, scale, dlogits)
    } else {
      let (logits, weights, scale, dlogits) = (logits.f64, weights.map(\.f64), scale.f64, dlogits.map(\.f64))
      return recur_softmax_xent_f64(rows, vocab, logits, targets, weights, scale, dlogits)
    }
  }

  /// θ̄ ← lerp(θ̄, θ, w) in place, PyTorch's arithmetic (see `recur_lerp_f32`): the weight average's update.
  static func lerp(count: Int, average: UnsafeMutablePointer<Self>, value: UnsafePointer<Self>, weight: Self) {
    if Self.self == Float.self {
      recur_lerp_f32(count, average.f32, value.f32, weight.f32)
    } else {
      recur_lerp_f64(count, average.f64, value.f64, weight.f64)
    }
  }

  /// A dropout mask shared by a whole batch, by the counter-based rule of `recur_shared_mask_f32`: element i
  /// is kept when mix32(mix32(i ⊕ lo) ⊕ hi) < round(keep · 2³²) (lo, hi the halves of `seed`); `mask[i]` is
  /// 1/keep or 0 and, with `weight`, `dropped[i]` = weight[i] · mask[i], in one pass. `count` ≤ 2³².
  static func sharedMask(count: Int, seed: UInt64, keep: Double, weight: UnsafePointer<Self>?, mask: UnsafeMutablePointer<Self>, dropped: UnsafeMutablePointer<Self>?) {
    precondition(count >= 0 && UInt64(count) <= 1 << 32, "a shared mask holds at most 2^32 elements")
    if Self.self == Float.self {
      recur_shared_mask_f32(count, seed, keep, weight.map(\.f32), mask.f32, dropped.map(\.f32))
    } else {
      recur_shared_mask_f64(count, seed, keep, weight.map(\.f64), mask.f64, dropped.map(\.f64))
    }
  }

  /// One Adam (or AdamW, when `decoupled`) step for `count` parameters in place, with moment buffers `m`
  /// and `v`; `biasCorrection1` = 1 − β₁^t and `biasCorrection2` = 1 − β₂^t.
  static func adam(count: Int, param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>, v: UnsafeMutablePointer<Self>, lr: Self, beta1: Self, beta2: Self, eps: Self, weightDecay: Self, decoupled: Bool, biasCorrection1: Self, biasCorrection2: Self) {
    if Self.self == Float.self {
      let (param, grad, m, v, lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2) = (param.f32, grad.f32, m.f32, v.f32, lr.f32, beta1.f32, beta2.f32, eps.f32, weightDecay.f32, biasCorrection1.f32, biasCorrection2.f32)
      recur_adam_f32(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1, biasCorrection2)
    } else {
      let (param, grad, m, v, lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2) = (param.f64, grad.f64, m.f64, v.f64, lr.f64, beta1.f64, beta2.f64, eps.f64, weightDecay.f64, biasCorrection1.f64, biasCorrection2.f64)
      recur_adam_f64(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1, biasCorrection2)
    }
  }
}

extension RecurScalar {
  /// This value as the `Float` it is (only where `Self` is `Float`).
  @inline(__always) var f32: Float { unsafeBitCast(self, to: Float.self) }
  /// This value as the `Double` it is (only where `Self` is `Double`).
  @inline(__always) var f64: Double { unsafeBitCast(self, to: Double.self) }
}

extension UnsafePointer where Pointee: RecurScalar {
  @inline(__always) var f32: UnsafePointer<Float> { UnsafeRawPointer(self).assumingMemoryBound(to: Float.self) }
  @inline(__always) var f64: UnsafePointer<Double> { UnsafeRawPointer(self).assumingMemoryBound(to: Double.self) }
}

extension UnsafeMutablePointer where Pointee: RecurScalar {
  @inline(__always) var f32: UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(self).assumingMemoryBound(to: Float.self)
  }
  @inline(__always) var f64: UnsafeMutablePointer<Double> {
    UnsafeMutableRawPointer(self).assumingMemoryBound(to: Double.self)
  }
}

// Generated alongside RecurScalar.swift: each requirement calls its C kernel.
import _RecurKernels

/// `Float` computes through the vectorized single-precision kernels (AVX2+FMA, NEON or scalar, chosen once
/// at run time).
extension Float: RecurScalar {
  public static var dtypeName: String { "F32" }
  /// Runs on `Compute.threadCount` threads when the product is large (see `Compute.sgemm`).
  @inlinable public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    Compute.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
  }
  @inlinable public static func packedMatrixCount(n: Int, k: Int) -> Int { recur_sgemm_packed_b_size(n, k) }
  @inlinable public static func packMatrix(transposeB: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, packed: UnsafeMutablePointer<Float>) {
    recur_sgemm_pack_b(transposeB ? 1 : 0, n, k, b, ldb, packed)
  }
  /// Runs on `Compute.threadCount` threads when the product is large (see `Compute.sgemmPacked`).
  @inlinable public static func gemmPacked(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int?) {
    Compute.sgemmPacked(transposeA: transposeA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packed: packed, beta: beta, c: c, ldc: ldc, threads: threads)
  }
  @inlinable public static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
    checkKernelStatus(recur_sgemv(transposeA ? 1 : 0, m, n, alpha, a, lda, x, beta, y), "recur_sgemv")
  }
  @inlinable public static func activate(_ act: Activation, count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    recur_activate_f32(count, act.kernel, x, y)
  }
  @inlinable public static func activateBackward(_ act: Activation, count: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
    recur_activate_backward_f32(count, act.kernel, y, dy, dx)
  }
  @inlinable public static func addRowVector(rows: Int, width: Int, vector: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    recur_add_row_vector_f32(rows, width, vector, beta, c, ldc)
  }
  @inlinable public static func sumRows(rows: Int, width: Int, a: UnsafePointer<Float>, lda: Int, out: UnsafeMutablePointer<Float>) {
    recur_sum_rows_f32(rows, width, a, lda, out)
  }
  @inlinable public static func rnnForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Float>, hp: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>) {
    recur_rnn_forward_f32(batch, hidden, act.kernel, xp, hp, h)
  }
  @inlinable public static func rnnBackward(batch: Int, hidden: Int, act: Activation, h: UnsafePointer<Float>, dh: UnsafePointer<Float>, dpre: UnsafeMutablePointer<Float>) {
    recur_rnn_backward_f32(batch, hidden, act.kernel, h, dh, dpre)
  }
  @inlinable public static func gatedForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Float>, hp: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>) {
    recur_gated_forward_f32(batch, hidden, act.kernel, xp, hp, hPrev, h, cache)
  }
  @inlinable public static func gatedBackward(batch: Int, hidden: Int, act: Activation, cache: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dpre: UnsafeMutablePointer<Float>, dhPrev: UnsafeMutablePointer<Float>) {
    recur_gated_backward_f32(batch, hidden, act.kernel, cache, hPrev, dh, dpre, dhPrev)
  }
  @inlinable public static func lstmForward(batch: Int, hidden: Int, xp: UnsafePointer<Float>, hp: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>) {
    recur_lstm_forward_f32(batch, hidden, xp, hp, cPrev, c, h, gates)
  }
  @inlinable public static func lstmBackward(batch: Int, hidden: Int, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, c: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafePointer<Float>?, dgates: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
    recur_lstm_backward_f32(batch, hidden, gates, cPrev, c, dh, dc, dgates, dcPrev)
  }
  @inlinable public static func gruForward(batch: Int, hidden: Int, xp: UnsafePointer<Float>, hp: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>) {
    recur_gru_forward_f32(batch, hidden, xp, hp, hPrev, h, cache)
  }
  @inlinable public static func gruBackward(batch: Int, hidden: Int, cache: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dxp: UnsafeMutablePointer<Float>, dhp: UnsafeMutablePointer<Float>, dhPrev: UnsafeMutablePointer<Float>) {
    recur_gru_backward_f32(batch, hidden, cache, hPrev, dh, dxp, dhp, dhPrev)
  }
  @inlinable public static func softmax(rows: Int, vocab: Int, logits: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>) {
    recur_softmax_f32(rows, vocab, logits, probs)
  }
  @inlinable public static func softmaxCrossEntropy(rows: Int, vocab: Int, logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, scale: Float, dlogits: UnsafeMutablePointer<Float>?) -> Double {
    recur_softmax_xent_f32(rows, vocab, logits, targets, weights, scale, dlogits)
  }
  @inlinable public static func adam(count: Int, param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool, biasCorrection1: Float, biasCorrection2: Float) {
    recur_adam_f32(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1, biasCorrection2)
  }
}

/// `Double` computes through the scalar double-precision kernels, for gradient checks against finite
/// differences.
extension Double: RecurScalar {
  public static var dtypeName: String { "F64" }
  @inlinable public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    recur_dgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  /// The packed op(B) of `Double` is op(B) itself, copied as a K × N matrix.
  @inlinable public static func packedMatrixCount(n: Int, k: Int) -> Int { max(1, n * k) }
  @inlinable public static func packMatrix(transposeB: Bool, n: Int, k: Int, b: UnsafePointer<Double>, ldb: Int, packed: UnsafeMutablePointer<Double>) {
    for p in 0..<k {
      for j in 0..<n { packed[p * n + j] = transposeB ? b[j * ldb + p] : b[p * ldb + j] }
    }
  }
  @inlinable public static func gemmPacked(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, packed: UnsafePointer<Double>, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, threads: Int?) {
    recur_dgemm(transposeA ? 1 : 0, 0, m, n, k, alpha, a, lda, packed, max(n, 1), beta, c, ldc)
  }
  @inlinable public static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
    recur_dgemv(transposeA ? 1 : 0, m, n, alpha, a, lda, x, beta, y)
  }
  @inlinable public static func activate(_ act: Activation, count: Int, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
    recur_activate_f64(count, act.kernel, x, y)
  }
  @inlinable public static func activateBackward(_ act: Activation, count: Int, y: UnsafePointer<Double>, dy: UnsafePointer<Double>, dx: UnsafeMutablePointer<Double>) {
    recur_activate_backward_f64(count, act.kernel, y, dy, dx)
  }
  @inlinable public static func addRowVector(rows: Int, width: Int, vector: UnsafePointer<Double>, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    recur_add_row_vector_f64(rows, width, vector, beta, c, ldc)
  }
  @inlinable public static func sumRows(rows: Int, width: Int, a: UnsafePointer<Double>, lda: Int, out: UnsafeMutablePointer<Double>) {
    recur_sum_rows_f64(rows, width, a, lda, out)
  }
  @inlinable public static func rnnForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Double>, hp: UnsafePointer<Double>, h: UnsafeMutablePointer<Double>) {
    recur_rnn_forward_f64(batch, hidden, act.kernel, xp, hp, h)
  }
  @inlinable public static func rnnBackward(batch: Int, hidden: Int, act: Activation, h: UnsafePointer<Double>, dh: UnsafePointer<Double>, dpre: UnsafeMutablePointer<Double>) {
    recur_rnn_backward_f64(batch, hidden, act.kernel, h, dh, dpre)
  }
  @inlinable public static func gatedForward(batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Double>, hp: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, h: UnsafeMutablePointer<Double>, cache: UnsafeMutablePointer<Double>) {
    recur_gated_forward_f64(batch, hidden, act.kernel, xp, hp, hPrev, h, cache)
  }
  @inlinable public static func gatedBackward(batch: Int, hidden: Int, act: Activation, cache: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, dh: UnsafePointer<Double>, dpre: UnsafeMutablePointer<Double>, dhPrev: UnsafeMutablePointer<Double>) {
    recur_gated_backward_f64(batch, hidden, act.kernel, cache, hPrev, dh, dpre, dhPrev)
  }
  @inlinable public static func lstmForward(batch: Int, hidden: Int, xp: UnsafePointer<Double>, hp: UnsafePointer<Double>, cPrev: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>, h: UnsafeMutablePointer<Double>, gates: UnsafeMutablePointer<Double>) {
    recur_lstm_forward_f64(batch, hidden, xp, hp, cPrev, c, h, gates)
  }
  @inlinable public static func lstmBackward(batch: Int, hidden: Int, gates: UnsafePointer<Double>, cPrev: UnsafePointer<Double>, c: UnsafePointer<Double>, dh: UnsafePointer<Double>, dc: UnsafePointer<Double>?, dgates: UnsafeMutablePointer<Double>, dcPrev: UnsafeMutablePointer<Double>) {
    recur_lstm_backward_f64(batch, hidden, gates, cPrev, c, dh, dc, dgates, dcPrev)
  }
  @inlinable public static func gruForward(batch: Int, hidden: Int, xp: UnsafePointer<Double>, hp: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, h: UnsafeMutablePointer<Double>, cache: UnsafeMutablePointer<Double>) {
    recur_gru_forward_f64(batch, hidden, xp, hp, hPrev, h, cache)
  }
  @inlinable public static func gruBackward(batch: Int, hidden: Int, cache: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, dh: UnsafePointer<Double>, dxp: UnsafeMutablePointer<Double>, dhp: UnsafeMutablePointer<Double>, dhPrev: UnsafeMutablePointer<Double>) {
    recur_gru_backward_f64(batch, hidden, cache, hPrev, dh, dxp, dhp, dhPrev)
  }
  @inlinable public static func softmax(rows: Int, vocab: Int, logits: UnsafePointer<Double>, probs: UnsafeMutablePointer<Double>) {
    recur_softmax_f64(rows, vocab, logits, probs)
  }
  @inlinable public static func softmaxCrossEntropy(rows: Int, vocab: Int, logits: UnsafePointer<Double>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Double>?, scale: Double, dlogits: UnsafeMutablePointer<Double>?) -> Double {
    recur_softmax_xent_f64(rows, vocab, logits, targets, weights, scale, dlogits)
  }
  @inlinable public static func adam(count: Int, param: UnsafeMutablePointer<Double>, grad: UnsafePointer<Double>, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, decoupled: Bool, biasCorrection1: Double, biasCorrection2: Double) {
    recur_adam_f64(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1, biasCorrection2)
  }
}



/// The floating-point types Recur computes in: `Float` for training and inference (vectorized kernels)
/// and `Double` for exact gradient checks against finite differences.
///
/// Each requirement is one kernel of the compute core over raw row-major buffers. Library code calls
/// them through the shape-checked wrappers in `Kernels`; they are public so that generic code can be
/// written over either precision.
public protocol RecurScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
  /// The safetensors dtype name of this type ("F32" or "F64").
  static var dtypeName: String { get }

  /// C = alpha · op(A) · op(B) + beta · C (row-major; see `recur_sgemm`).
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
  /// y = alpha · op(A) · x + beta · y.
  static func gemv(
    transposeA: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
    x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
  /// y = act(x), element-wise.
  static func activate(_ act: Activation, count: Int, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
  /// dx = dy · act'(from output y), element-wise.
  static func activateBackward(
    _ act: Activation, count: Int, y: UnsafePointer<Self>, dy: UnsafePointer<Self>,
    dx: UnsafeMutablePointer<Self>)
  /// Each row of C gets `vector` added (beta = 1) or set (beta = 0).
  static func addRowVector(
    rows: Int, width: Int, vector: UnsafePointer<Self>, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
  /// out += column sums of A.
  static func sumRows(rows: Int, width: Int, a: UnsafePointer<Self>, lda: Int, out: UnsafeMutablePointer<Self>)

  static func rnnForward(
    batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>,
    h: UnsafeMutablePointer<Self>)
  static func rnnBackward(
    batch: Int, hidden: Int, act: Activation, h: UnsafePointer<Self>, dh: UnsafePointer<Self>,
    dpre: UnsafeMutablePointer<Self>)
  static func gatedForward(
    batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>,
    hPrev: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>)
  static func gatedBackward(
    batch: Int, hidden: Int, act: Activation, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
    dh: UnsafePointer<Self>, dpre: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>)
  static func lstmForward(
    batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
    c: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>, gates: UnsafeMutablePointer<Self>)
  static func lstmBackward(
    batch: Int, hidden: Int, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>, c: UnsafePointer<Self>,
    dh: UnsafePointer<Self>, dc: UnsafePointer<Self>?, dgates: UnsafeMutablePointer<Self>,
    dcPrev: UnsafeMutablePointer<Self>)
  static func gruForward(
    batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
    h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>)
  static func gruBackward(
    batch: Int, hidden: Int, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafePointer<Self>,
    dxp: UnsafeMutablePointer<Self>, dhp: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>)
  static func softmax(rows: Int, vocab: Int, logits: UnsafePointer<Self>, probs: UnsafeMutablePointer<Self>)
  /// Softmax cross-entropy; returns the weighted sum of losses (see `recur_softmax_xent_f32`).
  static func softmaxCrossEntropy(
    rows: Int, vocab: Int, logits: UnsafePointer<Self>, targets: UnsafePointer<Int32>,
    weights: UnsafePointer<Self>?, scale: Self, dlogits: UnsafeMutablePointer<Self>?) -> Double
  static func adam(
    count: Int, param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>,
    v: UnsafeMutablePointer<Self>, lr: Self, beta1: Self, beta2: Self, eps: Self, weightDecay: Self,
    decoupled: Bool, biasCorrection1: Self, biasCorrection2: Self)
}

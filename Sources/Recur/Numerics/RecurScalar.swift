

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
  /// The number of scalars op(B) (K × N) takes once packed by ``packMatrix(transposeB:n:k:b:ldb:packed:)``.
  static func packedMatrixCount(n: Int, k: Int) -> Int
  /// Packs op(B) (K × N) once for ``gemmPacked(transposeA:m:n:k:alpha:a:lda:packed:beta:c:ldc:threads:)``: for a
  /// B operand reused by many products, such as W_hh once per time step. `packed` must hold
  /// ``packedMatrixCount(n:k:)`` scalars and be 64-byte aligned.
  static func packMatrix(
    transposeB: Bool, n: Int, k: Int, b: UnsafePointer<Self>, ldb: Int, packed: UnsafeMutablePointer<Self>)
  /// C = alpha · op(A) · op(B) + beta · C with op(B) packed by ``packMatrix(transposeB:n:k:b:ldb:packed:)``;
  /// bitwise the same as ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` when M, N > 1.
  /// `threads` caps the threads the product may use (nil: `Compute.threadCount`; 1 when the caller is
  /// already one of several threads).
  static func gemmPacked(
    transposeA: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
    packed: UnsafePointer<Self>, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, threads: Int?)
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

  /// The chapter's RNN step for B rows: s_t = f_s(xp + hp), with xp + hp = z^1_t.
  ///
  /// Shapes: `xp`, `hp`, `h` are B × H.
  static func rnnForward(
    batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>,
    h: UnsafeMutablePointer<Self>)
  /// The backward step of ``rnnForward(batch:hidden:act:xp:hp:h:)``: dpre = dh ∗ f_s'(z^1_t), the
  /// derivative taken from the output s_t = `h`.
  ///
  /// Shapes: `h`, `dh`, `dpre` are B × H.
  static func rnnBackward(
    batch: Int, hidden: Int, act: Activation, h: UnsafePointer<Self>, dh: UnsafePointer<Self>,
    dpre: UnsafeMutablePointer<Self>)
  /// The chapter's gated RNN step for B rows, gate order (g, candidate):
  /// g = sigmoid(xp_g + hp_g), c = f_s(xp_c + hp_c), s_t = (1 − g) ∗ s_{t−1} + g ∗ c.
  ///
  /// Shapes: `xp`, `hp` are B × 2H; `hPrev`, `h` are B × H; `cache` (B × 2H) receives g and c.
  static func gatedForward(
    batch: Int, hidden: Int, act: Activation, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>,
    hPrev: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>)
  /// The backward step of ``gatedForward(batch:hidden:act:xp:hp:hPrev:h:cache:)``: the gradients of the gate
  /// and candidate pre-activations into `dpre` (B × 2H) and the direct path dhPrev = dh ∗ (1 − g) (B × H).
  static func gatedBackward(
    batch: Int, hidden: Int, act: Activation, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
    dh: UnsafePointer<Self>, dpre: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>)
  /// The LSTM step for B rows, PyTorch's equations and gate order (i, f, g, o): i, f, o = sigmoid, g = tanh of
  /// xp + hp; c_t = f ∗ c_{t−1} + i ∗ g; h_t = o ∗ tanh(c_t).
  ///
  /// Shapes: `xp`, `hp` are B × 4H; `cPrev`, `c`, `h` are B × H; `gates` (B × 4H) receives the activated
  /// i, f, g, o.
  static func lstmForward(
    batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
    c: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>, gates: UnsafeMutablePointer<Self>)
  /// The backward step of ``lstmForward(batch:hidden:xp:hp:cPrev:c:h:gates:)``: from dh = dL/dh_t and
  /// dc = dL/dc_t from the future (nil for zero), the pre-activation gradients `dgates` (B × 4H, the same for
  /// xp and hp) and dcPrev = dL/dc_{t−1} (B × H).
  static func lstmBackward(
    batch: Int, hidden: Int, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>, c: UnsafePointer<Self>,
    dh: UnsafePointer<Self>, dc: UnsafePointer<Self>?, dgates: UnsafeMutablePointer<Self>,
    dcPrev: UnsafeMutablePointer<Self>)
  /// The GRU step for B rows, PyTorch's equations and gate order (r, z, n): r = sigmoid(xp_r + hp_r),
  /// z = sigmoid(xp_z + hp_z), n = tanh(xp_n + r ∗ hp_n), h_t = (1 − z) ∗ n + z ∗ h_{t−1}.
  ///
  /// Shapes: `xp`, `hp` are B × 3H; `hPrev`, `h` are B × H; `cache` (B × 4H) receives r, z, n and hp_n.
  static func gruForward(
    batch: Int, hidden: Int, xp: UnsafePointer<Self>, hp: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
    h: UnsafeMutablePointer<Self>, cache: UnsafeMutablePointer<Self>)
  /// The backward step of ``gruForward(batch:hidden:xp:hp:hPrev:h:cache:)``: `dxp` and `dhp` (B × 3H; they
  /// differ in the n block, which the reset gate scales) and the direct path dhPrev = dh ∗ z (B × H).
  static func gruBackward(
    batch: Int, hidden: Int, cache: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafePointer<Self>,
    dxp: UnsafeMutablePointer<Self>, dhp: UnsafeMutablePointer<Self>, dhPrev: UnsafeMutablePointer<Self>)
  /// Row-wise softmax of `logits` (N × V) into `probs`, with the maximum subtracted for stability; the two
  /// may alias.
  static func softmax(rows: Int, vocab: Int, logits: UnsafePointer<Self>, probs: UnsafeMutablePointer<Self>)
  /// Softmax cross-entropy; returns the weighted sum of losses (see `recur_softmax_xent_f32`).
  static func softmaxCrossEntropy(
    rows: Int, vocab: Int, logits: UnsafePointer<Self>, targets: UnsafePointer<Int32>,
    weights: UnsafePointer<Self>?, scale: Self, dlogits: UnsafeMutablePointer<Self>?) -> Double
  /// One Adam (or AdamW, when `decoupled`) step for `count` parameters in place, with moment buffers `m`
  /// and `v`; `biasCorrection1` = 1 − β₁^t and `biasCorrection2` = 1 − β₂^t.
  static func adam(
    count: Int, param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>,
    v: UnsafeMutablePointer<Self>, lr: Self, beta1: Self, beta2: Self, eps: Self, weightDecay: Self,
    decoupled: Bool, biasCorrection1: Self, biasCorrection2: Self)
}

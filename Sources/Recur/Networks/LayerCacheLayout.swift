/// How many scalars each buffer of a ``LayerCache`` holds after the sequence driver's forward and backward
/// passes over T steps of B rows.
///
/// The driver (``RecurrentLayer``'s `forward` and `backward`) reserves every buffer with these counts, and a
/// training run's memory estimate (``RecurrentNetwork/Configuration/trainingMemory(batch:steps:)``) adds them
/// up: both read the one layout, so the estimate cannot drift from what the driver allocates.
///
/// Shapes: `B` batch, `T` steps, `H` hidden, `G`·`H` the fused gate width, `W`·`H` the cell's cache width.
struct LayerCacheLayout {
  let hidden: Int, gateWidth: Int, cacheWidth: Int, steps: Int, batch: Int
  let hasMemoryCell: Bool, separateRecurrentGradient: Bool

  init(cell: any RecurrentCell, hidden: Int, steps: Int, batch: Int) {
    self.hidden = hidden
    gateWidth = cell.gateCount * hidden
    cacheWidth = cell.cacheWidth * hidden
    self.steps = steps
    self.batch = batch
    hasMemoryCell = cell.hasMemoryCell
    separateRecurrentGradient = cell.separateRecurrentGradient
  }

  /// xp_t for all steps, T·B × GH (and dL/dxp, the same size, in the backward pass).
  var projections: Int { steps * batch * gateWidth }
  /// h_0 … h_T, (T+1)·B × H (and c_0 … c_T for a cell with a memory cell).
  var states: Int { (steps + 1) * batch * hidden }
  /// The cell's per-step cache, T·B × (W·H) (at least one scalar).
  var cellCache: Int { max(1, steps * batch * cacheWidth) }
  /// hp for one step, B × GH.
  var stepProjection: Int { batch * gateWidth }
  /// dL/dhp for all steps when the cell keeps it apart from dL/dxp (the GRU), else nothing.
  var recurrentGradients: Int { separateRecurrentGradient ? projections : 0 }
  /// One running gradient (dh, dhPrev, dc or dcPrev), B × H.
  var runningGradient: Int { batch * hidden }
  /// The input-side bias forward and the bias-gradient sums backward, GH.
  var bias: Int { gateWidth }
  /// With weight drop: one recurrent weight matrix, G·H × H (M ⊙ W_hh or its mask M, held by the stack per layer
  /// and direction, and dJ/d(M ⊙ W_hh) before the mask, held by the layer's cache).
  var recurrentWeight: Int { gateWidth * hidden }
  /// The token table E W_ihᵀ + b_ih (and the per-token gradient sums) for a vocabulary of `V` tokens, V × GH.
  func tokenRows(vocabulary V: Int) -> Int { V * gateWidth }
  /// W_hhᵀ packed for the forward pass's per-step products (only with B > 1).
  func packedForward<Scalar: RecurScalar>(_: Scalar.Type) -> Int {
    batch > 1 ? Scalar.packedMatrixCount(n: gateWidth, k: hidden) : 0
  }
  /// W_hh packed for the backward pass's per-step products (only with B > 1).
  func packedBackward<Scalar: RecurScalar>(_: Scalar.Type) -> Int {
    batch > 1 ? Scalar.packedMatrixCount(n: hidden, k: gateWidth) : 0
  }

  /// Every buffer together after a forward and a backward pass, in scalars; `tokenVocabulary` is V when the
  /// layer reads tokens through an embedding table; with `weightDrop`, the cache's dJ/d(M ⊙ W_hh).
  func totalScalars<Scalar: RecurScalar>(_: Scalar.Type, tokenVocabulary: Int?, weightDrop: Bool = false) -> Int {
    let forward = projections + states + (hasMemoryCell ? states : 0) + cellCache + stepProjection + bias
    let backward = projections + recurrentGradients + 4 * runningGradient + (weightDrop ? recurrentWeight : 0)
    let packed = max(packedForward(Scalar.self), packedBackward(Scalar.self))
    return forward + backward + packed + (tokenVocabulary.map(tokenRows(vocabulary:)) ?? 0)
  }
}

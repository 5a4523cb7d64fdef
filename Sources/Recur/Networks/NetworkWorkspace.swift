import Foundation

/// The reusable workspace of a ``RecurrentNetwork``'s forward and backward passes. Keep one per training
/// loop: buffers grow to the largest batch seen and are then reused, so a step allocates nothing per time
/// step.
public final class NetworkWorkspace<Scalar: RecurScalar> {
  let stack = StackWorkspace<Scalar>()
  /// Embedded (and dropped-out) inputs, T·B × E.
  let embedded = Buffer<Scalar>()
  let embeddingMask = Buffer<Scalar>()
  var usedEmbeddingDropout = false
  /// Embedding dropout's mask over the V rows of the table (0 or 1/(1 − p)).
  let embeddingRowMask = Buffer<Scalar>()
  var usedEmbeddingRowDropout = false
  /// Embedding dropout through the projected token table (``EmbeddedTokens``): the table m ⊙ E (V × E) the
  /// bottom layer reads, and dJ/d(m ⊙ E) before the mask.
  let droppedEmbedding = Buffer<Scalar>()
  let droppedEmbeddingGradient = Buffer<Scalar>()
  /// Output dropout: the top layer's dropped outputs that the head read (T·B × H, or B × H read off each
  /// sequence) and their mask.
  let droppedTop = Buffer<Scalar>()
  let outputMask = Buffer<Scalar>()
  var usedOutputDropout = false
  /// Whether the last forward pass fed the bottom layer through ``EmbeddedTokens`` (embedded rows not formed).
  var usedTokenTable = false
  /// z^2_t for all steps, T·B × V; then its gradient.
  let logits = Buffer<Scalar>()
  let dLogits = Buffer<Scalar>()
  /// g_t = f_o(z^2_t) when needed.
  let outputs = Buffer<Scalar>()
  /// ∂L/∂s_t of the top layer, T·B × H.
  let dTop = Buffer<Scalar>()
  /// dL/d(stack input), T·B × I.
  let dInput = Buffer<Scalar>()
  /// Per-row loss weights (1 for real steps, 0 for padding).
  let rowWeights = Buffer<Scalar>()
  /// One target per sequence: the vector p_b each sequence's outputs were read into (B × H), its class
  /// targets, ∂L/∂p (B × H), and for the max readout the step each feature came from (B × H).
  let finalTop = Buffer<Scalar>()
  var targets: [Int32] = []
  let dFinalTop = Buffer<Scalar>()
  var readoutArgmax: [Int32] = []

  /// An empty workspace; its buffers grow to the largest batch seen.
  public init() {}
}

/// What a pass over a batch computed.
public struct LossResult<Scalar: RecurScalar>: Sendable {
  /// The reduced loss that was differentiated (see ``LossReduction``).
  public var loss: Double
  /// Σ L_elt over every unpadded step of the batch.
  public var elementLossSum: Double
  /// The number of unpadded steps that carried a target.
  public var elementCount: Int
  /// s_T for each sequence (its own last state).
  public var finalState: RecurrentState<Scalar>
  /// dL/ds_0, when a backward pass ran.
  public var initialStateGradient: RecurrentState<Scalar>?
  /// dL/dx_t (T·B × I, time-major) for vector inputs, when a backward pass ran.
  public var inputGradient: Tensor<Scalar>?
  /// ‖δ^{s_t}‖ for each layer (bottom first) and step t = 1 … T, when requested: the norm over the batch of
  /// the gradient of the future loss F_t with respect to s_t (the chapter's section "Back-propagation through
  /// time").
  public var futureLossGradientNorms: [[Double]]?

  /// The mean loss per unpadded step.
  public var meanElementLoss: Double { elementLossSum / Double(max(elementCount, 1)) }
}

/// The regularizers of a recurrent network while it trains, beyond plain dropout
/// (``RecurrentNetwork/Configuration/dropout``): those of AWD-LSTM (Merity et al., "Regularizing and Optimizing
/// LSTM Language Models", 2018). Each is inverted — what is kept is scaled by 1/(1 − p) — so evaluation,
/// sampling and streaming use the weights as they are; none of them is applied without a training pass's
/// masks.
///
/// - Embedding dropout: whole rows of the embedding E dropped, one mask over the V rows per batch: a token's
///   every occurrence in the batch reads 0 or E[id]/(1 − p).
/// - Locked (variational) dropout: one mask per sequence and feature, shared by every step t of that sequence
///   (Gal & Ghahramani 2016), on the embedding output (``inputDropout``), between layers (``hiddenDropout``)
///   and on the top layer's outputs before the head W^o (``outputDropout``).
/// - Weight drop (DropConnect on W^{ss}): the recurrent weights W_hh of every layer multiplied by one mask
///   M ∈ {0, 1/(1 − p)}^{G·H × H} per batch, shared by every step t and every sequence:
///   s_t = f_s(W^{sx} x_t + (M ⊙ W^{ss}) s_{t−1} + W^{ss}_0), and dJ/dW^{ss} = M ⊙ dJ/d(M ⊙ W^{ss}).
///
/// With truncated BPTT, a "sequence" is one chunk of a stream: each batch draws new masks, as AWD-LSTM does.
///
/// The masks follow from the run's seed and the step number alone, never from how a batch is split over
/// processes: a locked mask row from a generator keyed by the step, the place and the sequence; a mask shared
/// by the batch (weight drop's M, embedding dropout's rows) from a counter-based hash keyed by the step and
/// the place, element i kept when mix32(mix32(i ⊕ lo) ⊕ hi) < round((1 − p) · 2³²) — lowbias32 as mix32, lo
/// and hi the halves of the place's 64-bit seed — so it is decided in vector lanes.
public struct Regularization: Sendable, Hashable, Codable {
  /// p of dropping each row of the embedding (token models).
  public var embeddingDropout: Double
  /// p of the locked dropout on the embedding output (token models).
  public var inputDropout: Double
  /// p of the locked dropout on the inputs of layers 1 … L−1.
  public var hiddenDropout: Double
  /// p of the locked dropout on the top layer's outputs, before the head.
  public var outputDropout: Double
  /// p of DropConnect on each element of every layer's W_hh.
  public var weightDrop: Double

  /// Regularizers with the given probabilities (all 0: none).
  public init(
    embeddingDropout: Double = 0, inputDropout: Double = 0, hiddenDropout: Double = 0, outputDropout: Double = 0,
    weightDrop: Double = 0
  ) {
    self.embeddingDropout = embeddingDropout
    self.inputDropout = inputDropout
    self.hiddenDropout = hiddenDropout
    self.outputDropout = outputDropout
    self.weightDrop = weightDrop
  }

  /// Every probability with its PyTorch-style name (as in checkpoints and on the command line).
  public var named: [(name: String, value: Double)] {
    [("embedding_dropout", embeddingDropout), ("input_dropout", inputDropout), ("hidden_dropout", hiddenDropout),
     ("output_dropout", outputDropout), ("weight_drop", weightDrop)]
  }

  /// Whether any regularizer is on.
  public var isActive: Bool {
    // Read at every training step: compared directly rather than through ``named``'s array.
    embeddingDropout > 0 || inputDropout > 0 || hiddenDropout > 0 || outputDropout > 0 || weightDrop > 0
  }

  /// Checks every probability is in [0, 1); throws a ``ModelError`` naming the first that is not.
  public func validate() throws {
    for (name, p) in named where !(p.isFinite && p >= 0 && p < 1) {
      throw ModelError("\(name.replacingOccurrences(of: "_", with: " ")) must be in [0, 1), got \(p)")
    }
  }
}

import Foundation

/// The mean cross-entropy of a language model on a text.
///
/// Definition (so that anyone can reproduce it): the text c_1 … c_n is read as **one stream from the zero
/// state**; every token after the first is predicted from all tokens before it, and the figure is the mean
/// over those n − 1 predictions of −ln p(c_t | c_1 … c_{t−1}). `<start>` and `<end>` are not used.
public struct LanguageModelEvaluation: Sendable, Equatable, Codable {
  /// The mean cross-entropy in nats per token (per character for a characters vocabulary).
  public var natsPerToken: Double
  /// The number of predictions averaged, n − 1.
  public var predictions: Int

  /// An evaluation result of `natsPerToken` averaged over `predictions` predictions.
  public init(natsPerToken: Double, predictions: Int) {
    self.natsPerToken = natsPerToken
    self.predictions = predictions
  }

  /// The same mean in bits per token: nats / ln 2.
  public var bitsPerToken: Double { natsPerToken / Foundation.log(2) }
}

extension RecurrentNetwork {
  /// Evaluates a language model on a text by the definition of ``LanguageModelEvaluation``.
  ///
  /// The stream is processed in chunks of `chunkLength` steps with B = 1, the state carried from chunk to
  /// chunk, which gives exactly the one-stream figure while bounding memory. (Splitting the text into B
  /// parallel streams would be faster but would restart the state B times and so measure something else.)
  ///
  /// - Parameters:
  ///   - tokens: c_1 … c_n, n ≥ 2, ids below V.
  ///   - chunkLength: steps per forward pass.
  ///   - workspace: reusable buffers.
  public func evaluateLanguageModel(
    on tokens: [Int32], chunkLength: Int = 256, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> LanguageModelEvaluation {
    guard configuration.embeddingSize != nil, configuration.outputActivation == .softmax else {
      throw ModelError("evaluation as a language model needs token inputs and a softmax output")
    }
    guard tokens.count >= 2 else {
      throw TextError.textTooShort(tokens: tokens.count, needed: 2, purpose: "evaluation (one prediction)")
    }
    guard chunkLength >= 1 else { throw TextError.invalid("the chunk length must be at least 1, got \(chunkLength)") }
    let ws = workspace ?? NetworkWorkspace()
    var state = zeroState(batch: 1)
    var sum = 0.0
    var start = 0
    let predictions = tokens.count - 1
    while start < predictions {
      let T = min(chunkLength, predictions - start)
      let batch = try SequenceBatch<Scalar>(
        steps: T, batchSize: 1, inputs: .tokens(Array(tokens[start..<(start + T)])),
        targets: .classes(Array(tokens[(start + 1)...(start + T)])))
      let result = try loss(for: batch, loss: .crossEntropy, reduction: .sum, initialState: state, workspace: ws)
      sum += result.elementLossSum
      state = result.finalState
      start += T
    }
    return LanguageModelEvaluation(natsPerToken: sum / Double(predictions), predictions: predictions)
  }
}

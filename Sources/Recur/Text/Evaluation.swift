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
  /// Throws unless the network reads tokens and ends in a softmax, as the evaluations of a language model need.
  func checkIsLanguageModel() throws {
    guard configuration.embeddingSize != nil, configuration.outputActivation == .softmax else {
      throw ModelError("evaluation as a language model needs token inputs and a softmax output")
    }
  }

  /// Evaluates a language model on a text by the definition of ``LanguageModelEvaluation`` (with `streams`
  /// = 1, the default), or, faster, as B parallel streams (the validation loss of a truncated-BPTT run).
  ///
  /// The text is processed in chunks of `chunkLength` steps, the state carried from chunk to chunk, which
  /// gives exactly the one-stream figure while bounding memory. With B = `streams` > 1 the text is cut as
  /// ``StreamBatches`` cuts it: B contiguous streams of L = ⌊(n − 1) / B⌋ predictions each, every stream read
  /// from the zero state; the last (n − 1) − B·L predictions are left out, and each stream restart loses the
  /// context before it, so the figure is slightly above the one-stream figure (and not the definition).
  ///
  /// - Parameters:
  ///   - tokens: c_1 … c_n, n ≥ B + 1, ids below V.
  ///   - streams: B, the number of parallel streams.
  ///   - chunkLength: steps per forward pass.
  ///   - workspace: reusable buffers.
  ///   - communicator: with several ranks, each evaluates its share of the B streams
  ///     (``DataParallel/rows(batch:rank:ranks:)``) and the sums are reduced, so every rank returns the
  ///     figure of the whole text (with B = 1, rank 0 does all the work).
  public func evaluateLanguageModel<Tokens: RandomAccessCollection<Int32>>(
    on tokens: Tokens, streams: Int = 1, chunkLength: Int = 256, workspace: NetworkWorkspace<Scalar>? = nil,
    communicator: (any Communicator)? = nil
  ) throws -> LanguageModelEvaluation where Tokens.Index == Int {
    try checkIsLanguageModel()
    guard streams >= 1 else { throw TextError.invalid("the number of streams must be at least 1, got \(streams)") }
    guard tokens.count >= streams + 1 else {
      throw TextError.textTooShort(tokens: tokens.count, needed: streams + 1, purpose: streams == 1 ? "evaluation (one prediction)" : "evaluation of \(streams) streams (one prediction each)")
    }
    guard chunkLength >= 1 else { throw TextError.invalid("the chunk length must be at least 1, got \(chunkLength)") }
    let ws = workspace ?? NetworkWorkspace()
    let B = streams, L = (tokens.count - 1) / B
    let mine = DataParallel.rows(batch: B, rank: communicator?.rank ?? 0, ranks: communicator?.size ?? 1)
    let b0 = mine.lowerBound, n = mine.count
    var sum = [0.0]
    if n > 0 {
      var state = zeroState(batch: n)
      var start = 0
      while start < L {
        let T = min(chunkLength, L - start)
        // Time-major: step t of stream b at t·n + (b − b0); stream b starts at token b·L.
        var x = [Int32](repeating: 0, count: T * n), y = [Int32](repeating: 0, count: T * n)
        for b in mine {
          for t in 0..<T {
            x[t * n + b - b0] = tokens[tokens.startIndex + b * L + start + t]
            y[t * n + b - b0] = tokens[tokens.startIndex + b * L + start + t + 1]
          }
        }
        let batch = try SequenceBatch<Scalar>(steps: T, batchSize: n, inputs: .tokens(x), targets: .classes(y))
        let result = try loss(for: batch, loss: .crossEntropy, reduction: .sum, initialState: state, workspace: ws)
        sum[0] += result.elementLossSum
        state = result.finalState
        start += T
      }
    }
    try communicator?.allreduceSum(&sum)
    return LanguageModelEvaluation(natsPerToken: sum[0] / Double(B * L), predictions: B * L)
  }
}

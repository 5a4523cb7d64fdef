/// A text made into a language model's training and validation data, as `recur train` makes it: the first
/// 1 − f of the tokens train and the last f (``validationFraction``) validate.
///
/// In ``TextMode/stream`` mode the training part is B contiguous streams cut into chunks of T steps
/// (``TextBatches/stream(tokens:batchSize:steps:)``) and validation reads the held-out part as B parallel
/// streams; in ``TextMode/lines`` and ``TextMode/documents`` mode both parts are `<start>` … `<end>` pairs of
/// at most T steps, the training pairs bucketed by length and shuffled from a seed.
public struct LanguageModelData: Sendable {
  /// How the validation loss is measured.
  public enum Validation: Sendable {
    /// The held-out tokens read as `streams` parallel streams from the zero state
    /// (``RecurrentNetwork/evaluateLanguageModel(on:streams:chunkLength:workspace:communicator:)``).
    case stream(tokens: TokenSequence, streams: Int)
    /// The mean loss per step over the held-out pairs, in batches of B.
    case sequences([SequenceBatch<Float>])
  }

  /// The training batches.
  public let training: TextBatches<Float>
  /// The validation, nil when the held-out part is too short to measure.
  public let validation: Validation?
  /// B, streams or pairs per step.
  public let batchSize: Int
  /// T, steps per chunk (streams) or the longest pair (lines and documents).
  public let sequenceLength: Int
  /// f, the held-out fraction of the tokens.
  public let validationFraction: Double

  /// The held-out fraction `recur train` uses: 0.1, the last 10% of the text.
  public static let defaultValidationFraction = 0.1

  /// The tokens that train and the tokens that validate: the last `validationFraction` of them (rounded
  /// down) validate.
  public static func split(_ tokens: [Int32], validationFraction: Double) -> (training: [Int32], heldOut: [Int32]) {
    let cut = tokens.count - Int((Double(tokens.count) * validationFraction).rounded(.down))
    return (Array(tokens[..<cut]), Array(tokens[cut...]))
  }

  /// T for `mode` when none is given: the longest line or document of the whole text plus one (for
  /// `<start>` or `<end>`); nil in stream mode, whose chunk length is a choice, not a property of the text.
  ///
  /// - Throws: ``TextError`` for a text with no non-empty line or document.
  public static func longestPair(tokens: [Int32], vocabulary: Vocabulary, mode: TextMode) throws -> Int? {
    guard let segmentation = mode.segmentation else { return nil }
    let all = try SequenceBatches(
      tokens: tokens, vocabulary: vocabulary, segmentation: segmentation, batchSize: 1, maxSteps: Int.max / 2)
    return (all.sequences.map(\.count).max() ?? 0) + 1
  }

  /// Splits and batches a text's tokens.
  ///
  /// - Parameters:
  ///   - tokens: the whole text, encoded by `vocabulary`.
  ///   - vocabulary: the vocabulary (its `<start>` and `<end>` frame pairs).
  ///   - mode: streams, lines or documents.
  ///   - batchSize: B.
  ///   - sequenceLength: T (see ``longestPair(tokens:vocabulary:mode:)`` for pairs).
  ///   - validationFraction: f.
  ///   - seed: the order of the training pairs (lines and documents).
  /// - Throws: ``LanguageModelDataError/textTooShort(characters:batchSize:steps:trainingPercent:)`` when the
  ///   training part cannot fill B streams of T steps; the batching's errors.
  public init(
    tokens: [Int32], vocabulary: Vocabulary, mode: TextMode, batchSize: Int, sequenceLength: Int,
    validationFraction: Double = Self.defaultValidationFraction, seed: UInt64
  ) throws {
    try self.init(
      tokens: TokenSequence(tokens), vocabulary: vocabulary, mode: mode, batchSize: batchSize,
      sequenceLength: sequenceLength, validationFraction: validationFraction, seed: seed)
  }

  /// Splits and batches a text's compactly stored (or mapped) tokens without copying them (stream mode; the
  /// lines and documents modes copy the pairs they make).
  ///
  /// - Parameters:
  ///   - tokens: the whole text, encoded by `vocabulary`.
  ///   - vocabulary: the vocabulary (its `<start>` and `<end>` frame pairs).
  ///   - mode: streams, lines or documents.
  ///   - batchSize: B.
  ///   - sequenceLength: T (see ``longestPair(tokens:vocabulary:mode:)`` for pairs).
  ///   - validationFraction: f.
  ///   - seed: the order of the training pairs (lines and documents).
  ///   - ownedStreams: in stream mode, the streams this process reads (a rank of a data-parallel run:
  ///     ``StreamBatches/ownedStreams``); nil for all.
  /// - Throws: as the `[Int32]` initializer.
  public init(
    tokens: TokenSequence, vocabulary: Vocabulary, mode: TextMode, batchSize: Int, sequenceLength: Int,
    validationFraction: Double = Self.defaultValidationFraction, seed: UInt64, ownedStreams: Range<Int>? = nil
  ) throws {
    let cut = tokens.count - Int((Double(tokens.count) * validationFraction).rounded(.down))
    let training = tokens.slice(0..<cut), heldOut = tokens.slice(cut..<tokens.count)
    let B = batchSize, T = sequenceLength
    self.batchSize = B
    self.sequenceLength = T
    self.validationFraction = validationFraction
    if let segmentation = mode.segmentation {
      let sequences = try SequenceBatches(
        tokens: Array(training), vocabulary: vocabulary, segmentation: segmentation, batchSize: B, maxSteps: T,
        bucketByLength: true, seed: seed)
      self.training = TextBatches(.sequences(sequences))
      if let held = try? SequenceBatches(
        tokens: Array(heldOut), vocabulary: vocabulary, segmentation: segmentation, batchSize: B, maxSteps: T)
      {
        validation = .sequences(
          stride(from: 0, to: held.sequences.count, by: B).map {
            held.batch(of: Array($0..<min($0 + B, held.sequences.count)))
          })
      } else {
        validation = nil
      }
    } else {
      guard training.count >= B * T + 1 else {
        throw LanguageModelDataError.textTooShort(
          characters: training.count, batchSize: B, steps: T,
          trainingPercent: Int(((1 - validationFraction) * 100).rounded()))
      }
      var streams = try StreamBatches(tokens: training, batchSize: B, steps: T)
      streams.ownedStreams = ownedStreams
      self.training = TextBatches(.stream(streams))
      validation = heldOut.count >= 2 ? .stream(tokens: heldOut, streams: min(B, heldOut.count - 1)) : nil
    }
  }

  /// The validation loss of `network` in nats per token; nil without validation.
  ///
  /// With a `communicator` of several ranks the work is split over them and reduced (every rank returns the
  /// same figure).
  public func validationLoss(
    _ network: RecurrentNetwork<Float>, workspace: NetworkWorkspace<Float>? = nil,
    communicator: (any Communicator)? = nil
  ) throws -> Double? {
    switch validation {
    case .stream(let tokens, let streams):
      return try network.evaluateLanguageModel(
        on: tokens, streams: streams, chunkLength: 128, workspace: workspace, communicator: communicator
      ).natsPerToken
    case .sequences(let batches):
      return try network.meanLoss(over: batches, loss: .crossEntropy, workspace: workspace, communicator: communicator)
    case nil:
      return nil
    }
  }

  /// One validation's work in training batches of B × T (forward only), for ``StepTiming``.
  public var validationBatches: Double {
    switch validation {
    case .stream(let tokens, _): Double(tokens.count) / Double(batchSize * sequenceLength)
    case .sequences(let batches): Double(batches.count)
    case nil: 0
    }
  }
}

/// A text that cannot be made into a language model's data.
public enum LanguageModelDataError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The training part has fewer tokens than B streams of T steps need (B·T + 1).
  case textTooShort(characters: Int, batchSize: Int, steps: Int, trainingPercent: Int)

  public var description: String {
    switch self {
    case .textTooShort(let characters, let B, let T, let percent):
      "the text is too short: the training part (first \(percent)%) has \(characters) characters, "
        + "\(B) streams × \(T) steps need \(B * T + 1)"
    }
  }
}

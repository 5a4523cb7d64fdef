import Foundation

/// A language model as a checkpoint holds it, checked: a network with an embedding and a softmax output, its
/// vocabulary (the `vocabulary.*` metadata) and the text mode it was trained in, with the data shape of the
/// run that wrote it.
///
/// This is the contract between `recur train`, which writes such checkpoints (``metadata(vocabulary:mode:batchSize:sequenceLength:validationFraction:)``),
/// and `recur sample`, `recur eval` and `recur train --init/--resume`, which read them. Weights-only
/// checkpoints written by `interop/recur_torch.save_for_recur` qualify too (their mode is ``TextMode/stream``).
public struct LanguageModelCheckpoint: Sendable {
  /// The metadata keys a language-model run adds to its checkpoint (beside `vocabulary.*`).
  public enum Key {
    /// How the training pairs were made: `stream`, `lines` or `documents` (absent: `stream`).
    public static let mode = "text.mode"
    /// B of the run, so that `--resume` rebuilds exactly the same batches.
    public static let batchSize = "text.batch_size"
    /// T of the run (the chunk length, or the longest sequence of lines and documents).
    public static let sequenceLength = "text.seq_len"
    /// The fraction of the text held out for validation.
    public static let validationFraction = "text.validation_fraction"
  }

  /// The checkpoint as read.
  public let checkpoint: Checkpoint<Float>
  /// The network to use the model with: by default θ̄ when the checkpoint holds an average of the weights, θ
  /// otherwise (see ``Checkpoint/network(weights:)``). Resuming a run uses ``checkpoint`` whole.
  public let network: RecurrentNetwork<Float>
  /// Which weights ``network`` holds, in one line (nil when the checkpoint holds no average).
  public let weightsDescription: String?
  /// The vocabulary the model reads and writes.
  public let vocabulary: Vocabulary
  /// How the model was trained: running text, or `<start>` … `<end>` pairs.
  public let mode: TextMode

  /// Checks that `checkpoint` holds a language model and reads its vocabulary and mode.
  ///
  /// - Parameters:
  ///   - checkpoint: the checkpoint.
  ///   - weights: the weights ``network`` takes: the average θ̄ when there is one (the default), or θ.
  /// - Throws: ``LanguageModelCheckpointError`` when it does not, and the vocabulary's errors.
  public init(_ checkpoint: Checkpoint<Float>, weights: ModelWeights = .averaged) throws {
    let configuration = checkpoint.network.configuration
    guard configuration.embeddingSize != nil, configuration.outputActivation == .softmax else {
      throw LanguageModelCheckpointError.notALanguageModel
    }
    let vocabulary = try Vocabulary(metadata: checkpoint.metadata)
    guard vocabulary.count == configuration.inputSize else {
      throw LanguageModelCheckpointError.vocabularySize(vocabulary: vocabulary.count, model: configuration.inputSize)
    }
    let modeName = checkpoint.metadata[Key.mode] ?? TextMode.stream.rawValue
    guard let mode = TextMode(rawValue: modeName) else { throw LanguageModelCheckpointError.unknownMode(modeName) }
    self.checkpoint = checkpoint
    network = checkpoint.network(weights: weights)
    weightsDescription = checkpoint.weightsDescription(weights)
    self.vocabulary = vocabulary
    self.mode = mode
  }

  /// Reads and checks a checkpoint file (see ``init(_:weights:)``).
  public init(contentsOf url: URL, weights: ModelWeights = .averaged) throws {
    try self.init(try Checkpoint<Float>(contentsOf: url), weights: weights)
  }

  /// B of the run that wrote the checkpoint, if recorded.
  public var batchSize: Int? { checkpoint.metadata[Key.batchSize].flatMap { Int($0) } }
  /// T of the run that wrote the checkpoint, if recorded.
  public var sequenceLength: Int? { checkpoint.metadata[Key.sequenceLength].flatMap { Int($0) } }
  /// Whether the checkpoint holds a stopped run (trainer options and position), not only a model.
  public var isResumable: Bool { checkpoint.options != nil && checkpoint.position != nil }

  /// A one-line description: "2-layer lstm, H = 512, E = 64, V = 67 (characters), stream mode".
  public var summary: String {
    let c = checkpoint.network.configuration
    return "\(c.layers)-layer \(c.cell), H = \(c.hiddenSize), E = \(c.embeddingSize ?? 0), "
      + "V = \(c.inputSize) (\(vocabulary.kind.rawValue)), \(mode.rawValue) mode"
  }

  /// The tokens of a text that `recur eval` measures: the whole text, or its last `fraction` of tokens
  /// (rounded down; `0.1` is the validation part of `recur train`).
  ///
  /// - Throws: the vocabulary's error for text it cannot encode.
  public func evaluationTokens(utf8 text: [UInt8], lastFraction fraction: Double? = nil) throws -> [Int32] {
    let all = try vocabulary.encode(utf8: text)
    return fraction.map { Array(all.suffix(Int((Double(all.count) * $0).rounded(.down)))) } ?? all
  }

  /// The metadata a language-model run writes into its checkpoints: the vocabulary, the mode and the data
  /// shape (B, T and the held-out fraction).
  public static func metadata(
    vocabulary: Vocabulary, mode: TextMode, batchSize: Int, sequenceLength: Int, validationFraction: Double
  ) -> [String: String] {
    var metadata = vocabulary.metadata
    metadata[Key.mode] = mode.rawValue
    metadata[Key.batchSize] = String(batchSize)
    metadata[Key.sequenceLength] = String(sequenceLength)
    metadata[Key.validationFraction] = "\(validationFraction)"
    return metadata
  }
}

/// A checkpoint that is not a usable language model.
public enum LanguageModelCheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The network has no embedding or no softmax output.
  case notALanguageModel
  /// The vocabulary's size differs from the network's.
  case vocabularySize(vocabulary: Int, model: Int)
  /// The `text.mode` metadata names no ``TextMode``.
  case unknownMode(String)

  public var description: String {
    switch self {
    case .notALanguageModel:
      "not a language model (it has no embedding or no softmax output)"
    case .vocabularySize(let vocabulary, let model):
      "the vocabulary has \(vocabulary) tokens but the model \(model)"
    case .unknownMode(let name):
      "metadata '\(LanguageModelCheckpoint.Key.mode)' is '\(name)', not stream, lines or documents"
    }
  }
}

/// The files of a training run: the checkpoint, and beside it its metrics (`NAME.metrics.jsonl`, see
/// ``MetricsRecord``) and a plot of its training and validation loss (`NAME.loss.svg`).
public struct RunFiles: Sendable, Equatable {
  /// The checkpoint.
  public var checkpoint: URL
  /// The per-step metrics, one JSON object per line.
  public var metrics: URL
  /// The loss plot (SVG).
  public var lossPlot: URL

  /// The files of a run that writes its checkpoint to `checkpoint`.
  public init(checkpoint: URL) {
    self.checkpoint = checkpoint
    let base = checkpoint.deletingPathExtension().path
    metrics = URL(fileURLWithPath: base + ".metrics.jsonl")
    lossPlot = URL(fileURLWithPath: base + ".loss.svg")
  }
}

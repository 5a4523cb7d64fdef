/// The training batches of a language model, as the ``Trainer`` consumes them (``TrainingData``): the chunks
/// of ``StreamBatches`` (truncated BPTT, each chunk continuing the previous one within a pass) or the
/// per-line / per-document pairs of ``SequenceBatches`` (full BPTT from the zero state).
///
/// Both sources fix their order by their position alone (streams have one order; sequence batches draw each
/// epoch's order from their seed and the epoch number), so a ``DataPosition``'s epoch and batch index are all
/// that a checkpoint needs; its generator field is unused and kept as given.
public struct TextBatches<Scalar: RecurScalar>: TrainingData, Sendable {
  /// Where the batches come from.
  public enum Source: Sendable {
    /// B contiguous streams in chunks of T steps.
    case stream(StreamBatches)
    /// The chapter's pairs x = (<start>, c_1 … c_k), y = (c_1 … c_k, <end>), batched with masks.
    case sequences(SequenceBatches)
  }

  /// The underlying batches, at the current position.
  public private(set) var source: Source
  /// The generator field reported in ``position`` (unused by text sources).
  private var generator = SeededGenerator(seed: 0)

  /// Training data from a source, starting at the source's position.
  public init(_ source: Source) {
    self.source = source
  }

  /// The stream source of `tokens` (see ``StreamBatches``).
  public static func stream(tokens: [Int32], batchSize: Int, steps: Int) throws -> Self {
    Self(.stream(try StreamBatches(tokens: tokens, batchSize: batchSize, steps: steps)))
  }

  /// The mode this data trains (``TextMode/stream``, or the sequences' segmentation).
  public var mode: TextMode {
    switch source {
    case .stream: .stream
    case .sequences(let s): s.segmentation == .lines ? .lines : .documents
    }
  }

  public var batchesPerEpoch: Int {
    switch source {
    case .stream(let s): s.chunksPerEpoch
    case .sequences(let s): s.batchesPerEpoch
    }
  }

  public var position: DataPosition {
    switch source {
    case .stream(let s): DataPosition(epoch: s.position.epoch, batchIndex: s.position.chunk, generator: generator)
    case .sequences(let s): DataPosition(epoch: s.position.epoch, batchIndex: s.position.batch, generator: generator)
    }
  }

  public mutating func restore(_ position: DataPosition) throws {
    guard position.epoch >= 0, (0..<batchesPerEpoch).contains(position.batchIndex) else {
      throw TrainingDataError("data position batch \(position.batchIndex) is outside 0..<\(batchesPerEpoch)")
    }
    generator = position.generator
    switch source {
    case .stream(var s):
      s.position = StreamBatches.Position(epoch: position.epoch, chunk: position.batchIndex)
      source = .stream(s)
    case .sequences(var s):
      s.position = SequenceBatches.Position(epoch: position.epoch, batch: position.batchIndex)
      source = .sequences(s)
    }
  }

  public mutating func nextBatch() throws -> TrainingBatch<Scalar> {
    switch source {
    case .stream(var s):
      let chunk: StreamBatches.Chunk<Scalar> = s.next()
      source = .stream(s)
      return TrainingBatch(batch: chunk.batch, continuesPrevious: !chunk.startsStream)
    case .sequences(var s):
      let batch: SequenceBatch<Scalar> = s.next()
      source = .sequences(s)
      return TrainingBatch(batch: batch, continuesPrevious: false)
    }
  }
}

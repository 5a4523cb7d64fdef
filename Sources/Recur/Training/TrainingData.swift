/// Where a data source is in its passes over the data: enough to continue from exactly the same batch with
/// exactly the same future order.
public struct DataPosition: Sendable, Equatable, Codable {
  /// The number of completed passes over the data.
  public var epoch: Int
  /// The number of batches already taken in the current pass.
  public var batchIndex: Int
  /// The shuffling generator's state at the start of the current pass (before it drew that pass's order).
  public var generator: SeededGenerator

  /// The position of batch `batchIndex` of pass `epoch`, whose order `generator` draws.
  public init(epoch: Int, batchIndex: Int, generator: SeededGenerator) {
    self.epoch = epoch
    self.batchIndex = batchIndex
    self.generator = generator
  }
}

/// One training batch from a data source (a generated task's batch, too): sequences with per-step targets, or
/// with targets for each sequence's last step only (``finalTargets``).
public struct TrainingBatch<Scalar: RecurScalar>: Sendable {
  /// The sequences and their targets.
  public var batch: SequenceBatch<Scalar>
  /// True when this batch continues the streams of the previous batch (truncated BPTT): its initial state is
  /// the previous batch's final state, detached. False for a batch that starts from the zero state.
  public var continuesPrevious: Bool
  /// y_n for each sequence when the loss is at each sequence's last step only (the batch's own targets are
  /// then not read); nil for per-step targets.
  public var finalTargets: FinalStepTargets<Scalar>?

  /// A training batch; see ``continuesPrevious`` and ``finalTargets``.
  public init(
    batch: SequenceBatch<Scalar>, continuesPrevious: Bool = false, finalTargets: FinalStepTargets<Scalar>? = nil
  ) {
    self.batch = batch
    self.continuesPrevious = continuesPrevious
    self.finalTargets = finalTargets
  }
}

/// A training data source that cannot be built as asked or cannot take a saved position. Its description is one
/// line naming the problem.
public struct TrainingDataError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

/// A source of training batches that can report and restore its position exactly.
public protocol TrainingData<Scalar> {
  /// The element type of the batches.
  associatedtype Scalar: RecurScalar
  /// The number of batches in one pass over the data.
  var batchesPerEpoch: Int { get }
  /// The position of the next batch.
  var position: DataPosition { get }
  /// Moves to a saved position; the next batch is the one that followed it.
  mutating func restore(_ position: DataPosition) throws
  /// The next batch; passes over the data follow each other without end.
  mutating func nextBatch() throws -> TrainingBatch<Scalar>
}

/// Full back-propagation through time over a fixed set of (x, y) sequence pairs of possibly different lengths
/// (the chapter's training set): each pass visits every pair once in an order shuffled by a seeded generator,
/// B pairs per batch, padded and masked by ``SequenceBatch``. The one source of sequence pairs: given as
/// vectors, as tokens, or as (a training split of) a ``SequenceDataset`` read from a file.
public struct SequencePairs<Scalar: RecurScalar>: TrainingData, Sendable {
  /// The pairs themselves.
  public enum Pairs: Sendable, Equatable {
    /// Real vector sequences: x^{(i)} as n^{(i)} vectors of I features, y^{(i)} as n^{(i)} vectors of V.
    case vectors(inputs: [[[Scalar]]], targets: [[[Scalar]]])
    /// Token sequences with class targets of the same lengths.
    case tokens(inputs: [[Int]], targets: [[Int]])
    /// The pairs of a ``SequenceDataset`` at `indices` (real, class or binary targets).
    case dataset(SequenceDataset, indices: [Int])

    var count: Int {
      switch self {
      case .vectors(let x, _): x.count
      case .tokens(let x, _): x.count
      case .dataset(_, let indices): indices.count
      }
    }
  }

  /// The training set.
  public let pairs: Pairs
  /// B, the number of pairs per batch (the last batch of a pass may be smaller).
  public let batchSize: Int
  /// Whether each pass visits the pairs in a new random order.
  public let shuffle: Bool
  public private(set) var position: DataPosition
  /// The visiting order of the current pass.
  private var order: [Int] = []
  /// The generator after drawing the current pass's order: the start of the next pass.
  private var nextPassGenerator = SeededGenerator(seed: 0)

  /// A source over `pairs`, shuffled with a generator seeded by `seed`.
  ///
  /// - Throws: ``TrainingDataError`` when there are no pairs, a pair's x and y differ in length, a dataset has
  ///   no targets or an index outside its pairs, or B < 1.
  public init(_ pairs: Pairs, batchSize: Int, shuffle: Bool = true, seed: UInt64) throws {
    guard batchSize >= 1 else { throw TrainingDataError("batch size must be at least 1, got \(batchSize)") }
    guard pairs.count > 0 else { throw TrainingDataError("the training set has no sequence pairs") }
    switch pairs {
    case .vectors(let x, let y):
      guard x.count == y.count else { throw TrainingDataError("\(x.count) input sequences but \(y.count) target sequences") }
      if let bad = x.indices.first(where: { x[$0].count != y[$0].count || x[$0].isEmpty }) {
        throw TrainingDataError("pair \(bad): x has \(x[bad].count) steps and y has \(y[bad].count) (need equal, ≥ 1)")
      }
    case .tokens(let x, let y):
      guard x.count == y.count else { throw TrainingDataError("\(x.count) input sequences but \(y.count) target sequences") }
      if let bad = x.indices.first(where: { x[$0].count != y[$0].count || x[$0].isEmpty }) {
        throw TrainingDataError("pair \(bad): x has \(x[bad].count) steps and y has \(y[bad].count) (need equal, ≥ 1)")
      }
    case .dataset(let dataset, let indices):
      guard dataset.hasTargets else { throw TrainingDataError("the data has no targets to train on") }
      if let bad = indices.first(where: { !dataset.inputs.indices.contains($0) }) {
        throw TrainingDataError("pair index \(bad) is outside the \(dataset.inputs.count) pairs of the data")
      }
    }
    self.pairs = pairs
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.position = DataPosition(epoch: 0, batchIndex: 0, generator: SeededGenerator(seed: seed))
    startPass()
  }

  /// A source over the pairs of `dataset` at `indices` (all of them when nil), for example a training split.
  ///
  /// - Throws: ``TrainingDataError`` as ``init(_:batchSize:shuffle:seed:)``.
  public init(_ dataset: SequenceDataset, indices: [Int]? = nil, batchSize: Int, shuffle: Bool = true, seed: UInt64)
    throws
  {
    try self.init(
      .dataset(dataset, indices: indices ?? Array(dataset.inputs.indices)), batchSize: batchSize, shuffle: shuffle,
      seed: seed)
  }

  public var batchesPerEpoch: Int { (pairs.count + batchSize - 1) / batchSize }

  /// Draws the current pass's order from the generator state saved at its start.
  private mutating func startPass() {
    order = Array(0..<pairs.count)
    var generator = position.generator
    if shuffle { generator.shuffle(&order) }
    nextPassGenerator = generator
  }

  public mutating func restore(_ position: DataPosition) throws {
    guard position.epoch >= 0, (0..<batchesPerEpoch).contains(position.batchIndex) else {
      throw TrainingDataError("data position batch \(position.batchIndex) is outside 0..<\(batchesPerEpoch)")
    }
    self.position = position
    startPass()
  }

  public mutating func nextBatch() throws -> TrainingBatch<Scalar> {
    let start = position.batchIndex * batchSize
    let indices = order[start..<min(start + batchSize, order.count)]
    let batch: SequenceBatch<Scalar>
    var finalTargets: FinalStepTargets<Scalar>? = nil
    switch pairs {
    case .vectors(let x, let y):
      batch = try SequenceBatch(inputs: indices.map { x[$0] }, targets: indices.map { y[$0] })
    case .tokens(let x, let y):
      batch = try SequenceBatch(tokens: indices.map { x[$0] }, targets: indices.map { y[$0] })
    case .dataset(let dataset, let pairIndices):
      let chosen = indices.map { pairIndices[$0] }
      batch = try dataset.batch(chosen, as: Scalar.self)
      // One target per sequence: the trainer reads each sequence by its options' readout.
      if dataset.layout == .sequence { finalTargets = dataset.sequenceTargets(chosen, as: Scalar.self) }
    }
    position.batchIndex += 1
    if position.batchIndex == batchesPerEpoch {
      // The next pass starts from where this pass's shuffle left the generator.
      position = DataPosition(epoch: position.epoch + 1, batchIndex: 0, generator: nextPassGenerator)
      startPass()
    }
    return TrainingBatch(batch: batch, continuesPrevious: false, finalTargets: finalTargets)
  }
}

extension RecurrentNetwork {
  /// The mean loss per unpadded step over fixed batches (no dropout, zero initial states).
  ///
  /// With a `communicator` of several ranks, rank r computes batches r, r + N, r + 2N, … and the sums are
  /// reduced: every rank returns the mean over all batches.
  public func meanLoss(
    over batches: [SequenceBatch<Scalar>], loss: ElementLoss, workspace: NetworkWorkspace<Scalar>? = nil,
    communicator: (any Communicator)? = nil
  ) throws -> Double {
    let ws = workspace ?? NetworkWorkspace()
    let rank = communicator?.rank ?? 0, ranks = communicator?.size ?? 1
    var sums = [0.0, 0.0]
    for (i, batch) in batches.enumerated() where i % ranks == rank {
      let result = try self.loss(for: batch, loss: loss, reduction: .sum, workspace: ws)
      sums[0] += result.elementLossSum
      sums[1] += Double(result.elementCount)
    }
    try communicator?.allreduceSum(&sums)
    return sums[0] / max(sums[1], 1)
  }
}

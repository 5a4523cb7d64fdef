/// Training pairs made as the chapter makes them (section "RNN as a language model"): each line (or each
/// document) c_1 … c_k of a text becomes one sequence pair
///
///     x = (<start>, c_1, …, c_k),   y = (c_1, …, c_k, <end>)
///
/// of k + 1 steps, and pairs of different lengths are batched with masks (``SequenceBatch`` lengths).
///
/// Each epoch visits every pair once in an order drawn from a ``SeededGenerator`` seeded by the run's seed
/// and the epoch number, so a ``position`` is enough to resume exactly. With bucketing, pairs of similar
/// length are batched together (less padding): the shuffled order is cut into windows of 50 batches, each
/// window is sorted by length and cut into batches, and the batches are shuffled.
public struct SequenceBatches: Sendable {
  /// How the text is cut into sequences.
  public enum Segmentation: String, Sendable, Codable, CaseIterable {
    /// Each non-empty line, without its line break (a trailing carriage return is dropped too).
    case lines
    /// Each run of non-empty lines separated by blank lines, keeping the line breaks inside it.
    case documents
  }

  /// Where the next batch comes from.
  public struct Position: Sendable, Equatable, Codable {
    /// Completed passes over the pairs.
    public var epoch: Int
    /// The batch within the epoch, 0 ..< ``SequenceBatches/batchesPerEpoch``.
    public var batch: Int

    /// The position of batch `batch` of epoch `epoch` (the start by default).
    public init(epoch: Int = 0, batch: Int = 0) {
      self.epoch = epoch
      self.batch = batch
    }
  }

  /// The token ids of the text.
  public let tokens: [Int32]
  /// How the text was cut into sequences.
  public let segmentation: Segmentation
  /// The ranges of `tokens` that are the sequences c_1 … c_k, in text order.
  public let sequences: [Range<Int>]
  /// `<start>` and `<end>`.
  public let startToken: Int32, endToken: Int32
  /// The number of pairs per batch (the last batch of an epoch may have fewer).
  public let batchSize: Int
  /// Whether batches group pairs of similar length.
  public let bucketByLength: Bool
  /// The seed of the per-epoch order.
  public let seed: UInt64
  /// The position of the next batch.
  public var position = Position()
  /// The schedule of the current epoch, kept between calls of ``next(as:)``.
  private var cachedSchedule: (epoch: Int, batches: [[Int]])? = nil

  /// Pairs from the sequences of a text.
  ///
  /// - Parameters:
  ///   - tokens: the text's token ids.
  ///   - vocabulary: gives `<start>`, `<end>` and the line break.
  ///   - segmentation: lines or documents.
  ///   - batchSize: pairs per batch.
  ///   - maxSteps: the most steps a pair may have (k + 1); a longer sequence throws
  ///     ``TextError/sequenceTooLong(index:steps:maxSteps:)``.
  ///   - bucketByLength: batch pairs of similar length together.
  ///   - seed: fixes the order of every epoch.
  public init(
    tokens: [Int32], vocabulary: Vocabulary, segmentation: Segmentation, batchSize: Int, maxSteps: Int,
    bucketByLength: Bool = false, seed: UInt64 = 0
  ) throws {
    guard batchSize >= 1, maxSteps >= 2 else {
      throw TextError.invalid("batch size must be at least 1 and sequence length at least 2, got \(batchSize) and \(maxSteps)")
    }
    let sequences = SequenceBatches.segment(
      tokens, newline: vocabulary.newlineToken, carriageReturn: vocabulary.carriageReturnToken,
      segmentation: segmentation)
    guard !sequences.isEmpty else {
      throw TextError.textTooShort(tokens: tokens.count, needed: 1, purpose: "one non-empty \(segmentation == .lines ? "line" : "document")")
    }
    if let long = sequences.firstIndex(where: { $0.count + 1 > maxSteps }) {
      throw TextError.sequenceTooLong(index: long, steps: sequences[long].count + 1, maxSteps: maxSteps)
    }
    self.tokens = tokens
    self.segmentation = segmentation
    self.sequences = sequences
    self.startToken = vocabulary.startToken
    self.endToken = vocabulary.endToken
    self.batchSize = batchSize
    self.bucketByLength = bucketByLength
    self.seed = seed
  }

  /// The sequences of a text as ranges of its tokens.
  static func segment(
    _ tokens: [Int32], newline: Int32?, carriageReturn: Int32?, segmentation: Segmentation
  ) -> [Range<Int>] {
    // Lines without their breaks (and without a carriage return before the break).
    var lines: [Range<Int>] = []
    var start = 0
    func close(_ end: Int) {
      var e = end
      if e > start, let cr = carriageReturn, tokens[e - 1] == cr { e -= 1 }
      lines.append(start..<e)
    }
    if let newline {
      for (i, t) in tokens.enumerated() where t == newline {
        close(i)
        start = i + 1
      }
    }
    close(tokens.count)
    switch segmentation {
    case .lines:
      return lines.filter { !$0.isEmpty }
    case .documents:
      var documents: [Range<Int>] = []
      var first: Range<Int>? = nil, last: Range<Int>? = nil
      for line in lines {
        if line.isEmpty {
          if let f = first, let l = last { documents.append(f.lowerBound..<l.upperBound) }
          first = nil
          last = nil
        } else {
          if first == nil { first = line }
          last = line
        }
      }
      if let f = first, let l = last { documents.append(f.lowerBound..<l.upperBound) }
      return documents
    }
  }

  /// The chapter's pair for sequence `index`: x = (<start>, c_1 … c_k), y = (c_1 … c_k, <end>).
  public func pair(_ index: Int) -> (x: [Int], y: [Int]) {
    let c = tokens[sequences[index]].map(Int.init)
    return ([Int(startToken)] + c, c + [Int(endToken)])
  }

  /// ⌈q / B⌉, the batches in one pass over the q pairs.
  public var batchesPerEpoch: Int { (sequences.count + batchSize - 1) / batchSize }

  /// The sequence indices of every batch of an epoch, in the order they are visited.
  public func schedule(epoch: Int) -> [[Int]] {
    var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: epoch + 1))
    var order = Array(sequences.indices)
    rng.shuffle(&order)
    if !bucketByLength {
      return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
    }
    let window = batchSize * 50
    var batches: [[Int]] = []
    for w in stride(from: 0, to: order.count, by: window) {
      let sorted = order[w..<min(w + window, order.count)].sorted {
        (sequences[$0].count, $0) < (sequences[$1].count, $1)
      }
      for b in stride(from: 0, to: sorted.count, by: batchSize) {
        batches.append(Array(sorted[b..<min(b + batchSize, sorted.count)]))
      }
    }
    rng.shuffle(&batches)
    return batches
  }

  /// The batch of the given sequences, padded to the longest.
  public func batch<Scalar: RecurScalar>(of indices: [Int], as _: Scalar.Type = Scalar.self) -> SequenceBatch<Scalar> {
    let pairs = indices.map(pair)
    return try! SequenceBatch<Scalar>(tokens: pairs.map(\.x), targets: pairs.map(\.y))
  }

  /// The batch at ``position``, advancing the position (to the next epoch after the last batch).
  public mutating func next<Scalar: RecurScalar>(as _: Scalar.Type = Scalar.self) -> SequenceBatch<Scalar> {
    if cachedSchedule?.epoch != position.epoch {
      cachedSchedule = (position.epoch, schedule(epoch: position.epoch))
    }
    let indices = cachedSchedule!.batches[position.batch]
    position.batch += 1
    if position.batch == batchesPerEpoch {
      position.batch = 0
      position.epoch += 1
    }
    return batch(of: indices)
  }
}

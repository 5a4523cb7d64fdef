/// Training pairs cut from one long text as B contiguous streams, for truncated back-propagation through time
/// (as char-rnn does).
///
/// The n tokens are divided into B streams of L = ⌊(n − 1) / B⌋ tokens each; stream b starts at token b·L.
/// Chunk k of an epoch covers steps p = k·T … k·T + T − 1 of every stream:
///
///     x_t = c[b·L + p + t],   y_t = c[b·L + p + t + 1]      (t = 0 … T − 1)
///
/// so chunk k + 1 continues each stream exactly where chunk k stopped and the caller carries the state
/// s_T of one chunk into the next. An epoch has ⌊L / T⌋ chunks; then the streams wrap to their starts and the
/// state must be reset (``Chunk/startsStream``). The ``position`` is all a checkpoint needs to resume exactly.
public struct StreamBatches: Sendable, Equatable {
  /// Where the next chunk comes from.
  public struct Position: Sendable, Equatable, Codable {
    /// Completed passes over the streams.
    public var epoch: Int
    /// The chunk within the epoch, 0 ..< ``StreamBatches/chunksPerEpoch``.
    public var chunk: Int

    /// The position of chunk `chunk` of epoch `epoch` (the start by default).
    public init(epoch: Int = 0, chunk: Int = 0) {
      self.epoch = epoch
      self.chunk = chunk
    }
  }

  /// One chunk: a batch of B × T pairs and where it sits.
  public struct Chunk<Scalar: RecurScalar>: Sendable {
    /// The inputs and targets, time-major (T·B).
    public var batch: SequenceBatch<Scalar>
    /// The position this chunk was taken from.
    public var position: Position
    /// True for the first chunk of an epoch: the streams start over, so the state must start from zero.
    public var startsStream: Bool { position.chunk == 0 }
  }

  /// The token ids c_1 … c_n (16 bits each where the vocabulary fits; possibly mapped from a ``TokenFile``).
  public let tokens: TokenSequence
  /// B, the number of parallel streams.
  public let batchSize: Int
  /// T, the steps per chunk (the truncation length of BPTT).
  public let steps: Int
  /// L, the tokens of each stream that serve as inputs.
  public let streamLength: Int
  /// The position of the next chunk.
  public var position = Position()
  /// The streams whose tokens chunks hold (nil: all B). A rank of a data-parallel run sets its own, so that
  /// it reads only their part of the text; the other rows hold token 0 (the trainer does not use them).
  public var ownedStreams: Range<Int>? = nil

  /// Streams over `tokens`.
  ///
  /// - Throws: ``TextError/textTooShort(tokens:needed:purpose:)`` unless n ≥ B·T + 1 (one full chunk).
  public init(tokens: [Int32], batchSize: Int, steps: Int) throws {
    try self.init(tokens: TokenSequence(tokens), batchSize: batchSize, steps: steps)
  }

  /// Streams over compactly stored (or mapped) `tokens`.
  ///
  /// - Throws: ``TextError/textTooShort(tokens:needed:purpose:)`` unless n ≥ B·T + 1 (one full chunk).
  public init(tokens: TokenSequence, batchSize: Int, steps: Int) throws {
    guard batchSize >= 1, steps >= 1 else {
      throw TextError.invalid("batch size and sequence length must be at least 1, got \(batchSize) and \(steps)")
    }
    let needed = batchSize * steps + 1
    guard tokens.count >= needed else {
      throw TextError.textTooShort(
        tokens: tokens.count, needed: needed, purpose: "one chunk of \(batchSize) streams × \(steps) steps (B·T + 1)")
    }
    self.tokens = tokens
    self.batchSize = batchSize
    self.steps = steps
    self.streamLength = (tokens.count - 1) / batchSize
  }

  /// ⌊L / T⌋, the chunks in one pass over the streams.
  public var chunksPerEpoch: Int { streamLength / steps }

  /// The chunk at a position (which must have `chunk` < ``chunksPerEpoch``).
  public func chunk<Scalar: RecurScalar>(at position: Position, as _: Scalar.Type = Scalar.self) -> Chunk<Scalar> {
    precondition(position.chunk >= 0 && position.chunk < chunksPerEpoch, "chunk \(position.chunk) is out of range")
    let B = batchSize, T = steps, p = position.chunk * T
    var x = [Int32](repeating: 0, count: T * B)
    var y = [Int32](repeating: 0, count: T * B)
    for b in ownedStreams ?? 0..<B {
      let start = b * streamLength + p
      for t in 0..<T {
        x[t * B + b] = tokens[start + t]
        y[t * B + b] = tokens[start + t + 1]
      }
    }
    let batch = try! SequenceBatch<Scalar>(steps: T, batchSize: B, inputs: .tokens(x), targets: .classes(y))
    return Chunk(batch: batch, position: position)
  }

  /// The chunk at ``position``, advancing the position (to the next epoch after the last chunk).
  public mutating func next<Scalar: RecurScalar>(as _: Scalar.Type = Scalar.self) -> Chunk<Scalar> {
    let chunk: Chunk<Scalar> = chunk(at: position)
    position.chunk += 1
    if position.chunk == chunksPerEpoch {
      position.chunk = 0
      position.epoch += 1
    }
    return chunk
  }
}

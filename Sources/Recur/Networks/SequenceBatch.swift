/// A batch of B sequences padded to T steps, stored time-major (step t of sequence b at row t·B + b), with
/// each sequence's own length: the chapter's training pairs (x^{(i)}, y^{(i)}) of lengths n^{(i)}, batched.
///
/// Padded steps carry no loss, do not change the state and receive zero gradient.
public struct SequenceBatch<Scalar: RecurScalar>: Sendable, Equatable {
  /// The inputs x_t.
  public enum Inputs: Sendable, Equatable {
    /// Token ids for an embedding input, T·B.
    case tokens([Int32])
    /// Real vectors of I features, T·B × I.
    case vectors([Scalar], features: Int)
  }

  /// The targets y_t.
  public enum Targets: Sendable, Equatable {
    /// Class indices (for cross-entropy), T·B; −1 marks a step without a target.
    case classes([Int32])
    /// Real vectors of V values (for squared error or binary cross-entropy), T·B × V.
    case values([Scalar], width: Int)
  }

  /// T, the padded number of steps.
  public let steps: Int
  /// B, the number of sequences.
  public let batchSize: Int
  /// Each sequence's length n^{(i)} ≤ T.
  public let lengths: [Int]
  /// The inputs x_1 … x_T of every sequence.
  public var inputs: Inputs
  /// The targets y_1 … y_T of every sequence.
  public var targets: Targets

  /// A batch from already time-major storage.
  ///
  /// - Parameters:
  ///   - steps: T.
  ///   - batchSize: B.
  ///   - lengths: each sequence's length n^{(i)} ≤ T (all T when nil).
  ///   - inputs: T·B token ids or T·B × I values, step t of sequence b at row t·B + b.
  ///   - targets: T·B class indices or T·B × V values, in the same order.
  /// - Throws: ``ModelError`` naming the first size that does not fit.
  public init(steps: Int, batchSize: Int, lengths: [Int]? = nil, inputs: Inputs, targets: Targets) throws {
    guard steps > 0, batchSize > 0 else { throw ModelError("a batch needs at least one step and one sequence") }
    let lengths = lengths ?? Array(repeating: steps, count: batchSize)
    guard lengths.count == batchSize else {
      throw ModelError("\(lengths.count) lengths given for a batch of \(batchSize) sequences")
    }
    if let bad = lengths.firstIndex(where: { $0 < 0 || $0 > steps }) {
      throw ModelError("sequence \(bad) has length \(lengths[bad]), outside 0…\(steps)")
    }
    let rows = steps * batchSize
    switch inputs {
    case .tokens(let t) where t.count != rows:
      throw ModelError("expected \(rows) input tokens (T·B), got \(t.count)")
    case .vectors(let v, let f) where f <= 0 || v.count != rows * f:
      throw ModelError("expected \(rows)×\(f) input values (T·B × I), got \(v.count)")
    default: break
    }
    switch targets {
    case .classes(let t) where t.count != rows:
      throw ModelError("expected \(rows) target classes (T·B), got \(t.count)")
    case .values(let v, let w) where w <= 0 || v.count != rows * w:
      throw ModelError("expected \(rows)×\(w) target values (T·B × V), got \(v.count)")
    default: break
    }
    self.steps = steps
    self.batchSize = batchSize
    self.lengths = lengths
    self.inputs = inputs
    self.targets = targets
  }

  /// A batch of real-valued sequence pairs of possibly different lengths: `inputs[i]` is x^{(i)}, a list of
  /// n^{(i)} vectors, and `targets[i]` is y^{(i)}, of the same length.
  public init(inputs: [[[Scalar]]], targets: [[[Scalar]]]) throws {
    let (B, T) = try Self.pairShape(inputs.map(\.count), targets.map(\.count))
    guard let I = inputs.first(where: { !$0.isEmpty })?.first?.count,
      let V = targets.first(where: { !$0.isEmpty })?.first?.count
    else { throw ModelError("every sequence in the batch is empty") }
    var x = [Scalar](repeating: 0, count: T * B * I)
    var y = [Scalar](repeating: 0, count: T * B * V)
    for b in 0..<B {
      for t in 0..<inputs[b].count {
        guard inputs[b][t].count == I else { throw ModelError("pair \(b), step \(t): x has \(inputs[b][t].count) features, expected \(I)") }
        guard targets[b][t].count == V else { throw ModelError("pair \(b), step \(t): y has \(targets[b][t].count) values, expected \(V)") }
        for i in 0..<I { x[(t * B + b) * I + i] = inputs[b][t][i] }
        for v in 0..<V { y[(t * B + b) * V + v] = targets[b][t][v] }
      }
    }
    try self.init(
      steps: T, batchSize: B, lengths: inputs.map(\.count), inputs: .vectors(x, features: I),
      targets: .values(y, width: V))
  }

  /// A batch of token sequences with class targets of the same lengths (for example the chapter's language
  /// model pairs x = (<start>, c_1, …, c_k), y = (c_1, …, c_k, <end>)).
  public init(tokens: [[Int]], targets: [[Int]]) throws {
    let (B, T) = try Self.pairShape(tokens.map(\.count), targets.map(\.count))
    var x = [Int32](repeating: 0, count: T * B)
    var y = [Int32](repeating: -1, count: T * B)
    for b in 0..<B {
      for t in 0..<tokens[b].count {
        x[t * B + b] = Int32(truncatingIfNeeded: tokens[b][t])
        y[t * B + b] = Int32(truncatingIfNeeded: targets[b][t])
      }
    }
    try self.init(steps: T, batchSize: B, lengths: tokens.map(\.count), inputs: .tokens(x), targets: .classes(y))
  }

  /// B and T of a batch of (x, y) pairs with these lengths; throws a ``ModelError`` when there are none, the
  /// counts differ, a pair's x and y differ in length, or every sequence is empty.
  static func pairShape(_ inputLengths: [Int], _ targetLengths: [Int]) throws -> (batch: Int, steps: Int) {
    guard !inputLengths.isEmpty else { throw ModelError("a batch needs at least one sequence") }
    guard inputLengths.count == targetLengths.count else {
      throw ModelError("\(inputLengths.count) input sequences but \(targetLengths.count) target sequences")
    }
    if let b = inputLengths.indices.first(where: { inputLengths[$0] != targetLengths[$0] }) {
      throw ModelError("pair \(b): x has \(inputLengths[b]) steps but y has \(targetLengths[b])")
    }
    let T = inputLengths.max() ?? 0
    guard T > 0 else { throw ModelError("every sequence in the batch is empty") }
    return (inputLengths.count, T)
  }

  /// The number of steps that carry a loss (unpadded).
  public var elementCount: Int { lengths.reduce(0, +) }
}

import Foundation

/// The embedded Reber grammar (Reber 1967; as a long-dependency benchmark in Hochreiter & Schmidhuber 1997,
/// experiment 1): strings B T ⟨Reber string⟩ T E or B P ⟨Reber string⟩ P E, predicted one symbol ahead.
///
/// At every step the network reads one symbol (one-hot over B T S X P V E) and must say which symbols may
/// legally come next (a multi-hot target, sigmoid cross-entropy). Every prediction is local except the
/// second-to-last one, which must remember the second symbol across the whole embedded string. A string
/// counts as right when, at every step, the symbols with output above 0.5 are exactly the legal ones; the
/// standard figure is the fraction of test strings right. Solved at 0.99.
public struct EmbeddedReberTask: SequenceTask {
  /// The alphabet, in one-hot order.
  public static let symbols: [Character] = ["B", "T", "S", "X", "P", "V", "E"]

  /// The inner Reber grammar: for each node, its (symbol, next node) choices; node 5 ends with E.
  static let inner: [[(Character, Int)]] = [
    [("T", 1), ("P", 2)],
    [("S", 1), ("X", 3)],
    [("T", 2), ("V", 4)],
    [("X", 2), ("S", 5)],
    [("P", 3), ("V", 5)],
  ]

  /// The embedded Reber grammar task (it has no settings).
  public init() {}

  public var name: String { "reber" }
  public var summary: String { "embedded Reber grammar: predict the legal next symbols; the second-to-last depends on the second" }
  public var inputSize: Int { Self.symbols.count }
  public var outputSize: Int { Self.symbols.count }
  public var outputActivation: OutputActivation { .sigmoid }
  public var loss: ElementLoss { .binaryCrossEntropy }

  /// One string of the embedded grammar, with choices drawn with equal probability.
  public static func generate(using generator: inout SeededGenerator) -> String {
    let branch: Character = generator.next() & 1 == 0 ? "T" : "P"
    var s: [Character] = ["B", branch, "B"]
    var node = 0
    while node != 5 {
      let (symbol, next) = inner[node][Int(generator.next() & 1)]
      s.append(symbol)
      node = next
    }
    s += ["E", branch, "E"]
    return String(s)
  }

  /// The set of legal next symbols after each proper prefix of an embedded Reber string: entry t is the set
  /// after s_1 … s_{t+1}, for t = 0 … n − 2.
  /// - Throws: ``TaskError`` when the string is not in the grammar.
  public static func legalNextSymbols(_ string: String) throws -> [Set<Character>] {
    let s = Array(string)
    guard s.count >= 9, s[0] == "B", s[1] == "T" || s[1] == "P", s[2] == "B" else {
      throw TaskError("'\(string)' does not start as an embedded Reber string (B T|P B …)")
    }
    var sets: [Set<Character>] = [["T", "P"], ["B"]]
    var node = 0
    var i = 3
    sets.append(Set(inner[0].map(\.0)))
    while node != 5 {
      guard i < s.count, let next = inner[node].first(where: { $0.0 == s[i] })?.1 else {
        throw TaskError("'\(string)' leaves the Reber grammar at position \(i + 1)")
      }
      node = next
      i += 1
      sets.append(node == 5 ? ["E"] : Set(inner[node].map(\.0)))
    }
    guard i + 3 == s.count, s[i] == "E", s[i + 1] == s[1], s[i + 2] == "E" else {
      throw TaskError("'\(string)' does not end with E \(s[1]) E")
    }
    sets.append([s[1]])
    sets.append(["E"])
    return sets
  }

  /// The batch for the given strings: inputs s_1 … s_{n−1}, multi-hot targets of the legal next symbols.
  public func batch<Scalar: RecurScalar>(for strings: [String]) throws -> SequenceBatch<Scalar> {
    var inputs: [[[Scalar]]] = [], targets: [[[Scalar]]] = []
    for string in strings {
      let sets = try Self.legalNextSymbols(string)
      let s = Array(string)
      inputs.append(s.dropLast().map { c in Self.symbols.map { $0 == c ? 1 : 0 } })
      targets.append(sets.map { set in Self.symbols.map { set.contains($0) ? 1 : 0 } })
    }
    return try SequenceBatch(inputs: inputs, targets: targets)
  }

  public func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar> {
    TrainingBatch(batch: try batch(for: (0..<size).map { _ in Self.generate(using: &generator) }))
  }

  /// The fraction of 500 fresh strings predicted right at every step (the standard figure), and the accuracy
  /// of the long-dependency prediction alone (the second-to-last symbol; chance 0.5).
  public func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator)
    throws -> TaskEvaluation
  {
    let strings = (0..<500).map { _ in Self.generate(using: &generator) }
    let batch: SequenceBatch<Scalar> = try batch(for: strings)
    let g = try network.outputs(for: batch).outputs.scalars
    guard case .values(let y, _) = batch.targets else { preconditionFailure("Reber targets are values") }
    let B = batch.batchSize, V = outputSize
    var stringsRight = 0, longRight = 0
    for b in 0..<B {
      let n = batch.lengths[b]
      var all = true
      for t in 0..<n {
        let row = (t * B + b) * V
        let right = (0..<V).allSatisfy { (g[row + $0] > 0.5) == (y[row + $0] > 0.5) }
        if !right { all = false }
        if t == n - 2, right { longRight += 1 }
      }
      if all { stringsRight += 1 }
    }
    let accuracy = Double(stringsRight) / Double(B)
    return TaskEvaluation(
      primary: TaskMetric("string accuracy", accuracy, higherIsBetter: true),
      others: [TaskMetric("long-dependency accuracy", Double(longRight) / Double(B), higherIsBetter: true)],
      baseline: nil, solved: accuracy >= 0.99)
  }
}

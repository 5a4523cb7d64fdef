import Foundation

/// The copy-memory task (Hochreiter & Schmidhuber 1997; in the form of Arjovsky, Shah & Bengio 2016 and
/// Le, Jaitly & Hinton 2015): read K symbols, wait through a delay of T blanks, then, after a delimiter,
/// reproduce the K symbols in order.
///
/// The input has T + 2K steps: K symbols drawn from 1 … S, T − 1 blanks (0), the delimiter (S + 1), and K
/// more blanks. The target is blank for the first T + K steps and the K symbols for the last K. Inputs and
/// outputs are one-hot over S + 2 classes with a cross-entropy at every step. The standard figure is the
/// accuracy on the K recalled symbols (chance 1/S); a network that outputs blanks and then guesses uniformly
/// has a mean cross-entropy of K log S / (T + 2K).
public struct CopyMemoryTask: SequenceTask {
  /// T, the delay between the last symbol and the delimiter.
  public let delay: Int
  /// K, the number of symbols to copy.
  public let copyLength: Int
  /// S, the number of distinct symbols.
  public let symbolCount: Int

  /// The task with delay T, K symbols to copy out of S.
  ///
  /// - Throws: ``TaskError`` for T < 1, K < 1 or too few symbols.
  public init(delay: Int, copyLength: Int = 10, symbolCount: Int = 8) throws {
    guard delay >= 1 else { throw TaskError("copy-memory needs a delay T ≥ 1, got \(delay)") }
    guard copyLength >= 1 else { throw TaskError("copy-memory needs at least one symbol to copy") }
    guard symbolCount >= 2 else { throw TaskError("copy-memory needs at least two symbols") }
    self.delay = delay
    self.copyLength = copyLength
    self.symbolCount = symbolCount
  }

  public var name: String { "copy" }
  public var summary: String {
    "copy memory: recall \(copyLength) symbols of \(symbolCount) after a delay of T = \(delay)"
  }
  public var inputSize: Int { symbolCount + 2 }
  public var outputSize: Int { symbolCount + 2 }
  public var outputActivation: OutputActivation { .softmax }
  public var loss: ElementLoss { .crossEntropy }
  /// The number of steps of every sequence, T + 2K.
  public var steps: Int { delay + 2 * copyLength }
  /// The mean cross-entropy per step of outputting blanks and then guessing uniformly: K log S / (T + 2K).
  public var entropyBaseline: Double { Double(copyLength) * Foundation.log(Double(symbolCount)) / Double(steps) }

  public func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar> {
    let T = steps, B = size, C = inputSize, K = copyLength
    var x = [Scalar](repeating: 0, count: T * B * C)
    var y = [Int32](repeating: 0, count: T * B)
    for b in 0..<B {
      var symbols: [Int] = []
      for _ in 0..<K { symbols.append(1 + Int.random(in: 0..<symbolCount, using: &generator)) }
      for t in 0..<T {
        let input: Int
        if t < K {
          input = symbols[t]
        } else if t == delay + K - 1 {
          input = symbolCount + 1
        } else {
          input = 0
        }
        x[(t * B + b) * C + input] = 1
        y[t * B + b] = t >= delay + K ? Int32(symbols[t - delay - K]) : 0
      }
    }
    return TrainingBatch(
      batch: try SequenceBatch(steps: T, batchSize: B, inputs: .vectors(x, features: C), targets: .classes(y)))
  }

  /// Accuracy on the recalled symbols of 500 fresh sequences (the standard figure, chance 1/S) and the mean
  /// cross-entropy per step (against the blank-then-guess baseline).
  public func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator)
    throws -> TaskEvaluation
  {
    let test: TrainingBatch<Scalar> = try makeBatch(size: 500, generator: &generator)
    let batch = test.batch
    let loss = try network.loss(for: batch, loss: .crossEntropy, reduction: .meanOverSteps)
    let g = try network.outputs(for: batch).outputs.scalars
    guard case .classes(let y) = batch.targets else { preconditionFailure("copy targets are classes") }
    let B = batch.batchSize, V = outputSize
    var right = 0
    for t in (delay + copyLength)..<steps {
      for b in 0..<B {
        let row = (t * B + b) * V
        var best = 0
        for v in 1..<V where g[row + v] > g[row + best] { best = v }
        if best == Int(y[t * B + b]) { right += 1 }
      }
    }
    let accuracy = Double(right) / Double(B * copyLength)
    return TaskEvaluation(
      primary: TaskMetric("recall accuracy", accuracy, higherIsBetter: true),
      others: [
        TaskMetric("cross-entropy per step", loss.loss, higherIsBetter: false),
        TaskMetric("blank-then-guess cross-entropy", entropyBaseline, higherIsBetter: false),
      ],
      baseline: 1 / Double(symbolCount), solved: accuracy >= 0.99)
  }
}

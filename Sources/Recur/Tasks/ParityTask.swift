import Foundation

/// The chapter's first state machine as a learning task: read a binary string one digit at a time and output,
/// after every digit, whether the number of zeros so far is even.
///
/// Targets come from ``FiniteStateMachine/parityOfZeros``: y_t = 1 when x_1 … x_t holds an even number of
/// zeros (the machine is in S1), else 0. This is also the chapter's reduction of sequence classification to
/// transduction ("y_t = 1 if x_1 … x_t is a positive example"), with 0/1 targets and a sigmoid
/// cross-entropy. Inputs are one-hot: "0" → (1, 0), "1" → (0, 1). Lengths are uniform in 1 … T.
public struct ParityTask: SequenceTask {
  /// T, the longest training string.
  public let maxLength: Int
  /// The machine whose outputs are the targets.
  public let machine = FiniteStateMachine.parityOfZeros

  /// - Parameter maxLength: T ≥ 1.
  public init(maxLength: Int) throws {
    guard maxLength >= 1 else { throw TaskError("parity needs a length of at least 1, got \(maxLength)") }
    self.maxLength = maxLength
  }

  public var name: String { "parity" }
  public var summary: String { "parity of zeros: after each digit, is the number of zeros so far even? (T ≤ \(maxLength))" }
  public var inputSize: Int { 2 }
  public var outputSize: Int { 1 }
  public var outputActivation: OutputActivation { .sigmoid }
  public var loss: ElementLoss { .binaryCrossEntropy }

  /// The network input for a digit named "0" or "1".
  public static func input<Scalar: RecurScalar>(_ digit: String) -> NetworkInput<Scalar> {
    digit == "0" ? .vector([1, 0]) : .vector([0, 1])
  }

  /// The output label of a network output g_t: "1" when σ > 0.5 (an even count), else "0".
  public static func label<Scalar: RecurScalar>(_ output: [Scalar]) -> String { output[0] > 0.5 ? "1" : "0" }

  /// `count` random binary strings with lengths uniform in `lengths`.
  public func strings(count: Int, lengths: ClosedRange<Int>, generator: inout SeededGenerator) -> [[String]] {
    (0..<count).map { _ in
      let n = Int.random(in: lengths, using: &generator)
      return (0..<n).map { _ in generator.next() & 1 == 0 ? "0" : "1" }
    }
  }

  /// The batch for the given strings: one-hot inputs, the machine's outputs as 0/1 targets.
  public func batch<Scalar: RecurScalar>(for strings: [[String]]) throws -> SequenceBatch<Scalar> {
    let inputs = strings.map { $0.map { $0 == "0" ? [Scalar(1), 0] : [Scalar(0), 1] } }
    let targets = strings.map { machine.transduce($0).map { [Scalar($0 == "1" ? 1 : 0)] } }
    return try SequenceBatch(inputs: inputs, targets: targets)
  }

  public func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar> {
    TrainingBatch(batch: try batch(for: strings(count: size, lengths: 1...maxLength, generator: &generator)))
  }

  /// Per-step and whole-string accuracy on 500 strings of length T, and whole-string accuracy on strings
  /// twice as long (generalization beyond the training lengths). Solved at a string accuracy of 0.99.
  public func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator)
    throws -> TaskEvaluation
  {
    func accuracy(length: Int) throws -> (step: Double, string: Double) {
      let test = strings(count: 500, lengths: length...length, generator: &generator)
      let batch: SequenceBatch<Scalar> = try batch(for: test)
      let g = try network.outputs(for: batch).outputs.scalars
      var stepsRight = 0, stringsRight = 0
      for (b, s) in test.enumerated() {
        let expected = machine.transduce(s)
        var all = true
        for t in s.indices {
          if (g[t * test.count + b] > 0.5 ? "1" : "0") == expected[t] { stepsRight += 1 } else { all = false }
        }
        if all { stringsRight += 1 }
      }
      return (Double(stepsRight) / Double(test.count * length), Double(stringsRight) / Double(test.count))
    }
    let atT = try accuracy(length: maxLength)
    let at2T = try accuracy(length: 2 * maxLength)
    return TaskEvaluation(
      primary: TaskMetric("string accuracy (T = \(maxLength))", atT.string, higherIsBetter: true),
      others: [
        TaskMetric("step accuracy", atT.step, higherIsBetter: true),
        TaskMetric("string accuracy (2T = \(2 * maxLength))", at2T.string, higherIsBetter: true),
      ],
      baseline: Foundation.pow(0.5, Double(maxLength)), solved: atT.string >= 0.99)
  }
}

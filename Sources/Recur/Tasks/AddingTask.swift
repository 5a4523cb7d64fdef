import Foundation

/// The adding problem (Hochreiter & Schmidhuber 1997, experiment 4; in the form of Le, Jaitly & Hinton 2015):
/// each step carries a value drawn uniformly from [0, 1) and a marker; exactly two steps are marked, one in
/// the first half of the sequence and one in the second, and the network must output the sum of the two
/// marked values after the last step.
///
/// Inputs x_t = (value, marker), I = 2; one real output with a squared error at the last step only. Always
/// predicting the mean, 1, scores an MSE of Var(u_1 + u_2) = 1/6 ≈ 0.167; the problem counts as solved below
/// 0.01.
public struct AddingTask: SequenceTask {
  /// T, the sequence length.
  public let length: Int

  /// - Parameter length: T ≥ 2.
  public init(length: Int) throws {
    guard length >= 2 else { throw TaskError("the adding problem needs T ≥ 2, got \(length)") }
    self.length = length
  }

  public var name: String { "adding" }
  public var summary: String { "adding problem: output the sum of the two marked values among T = \(length)" }
  public var inputSize: Int { 2 }
  public var outputSize: Int { 1 }
  public var outputActivation: OutputActivation { .identity }
  public var loss: ElementLoss { .squaredError }

  /// The MSE of always predicting the mean sum, 1: Var(u_1 + u_2) = 2/12.
  public static let meanBaseline = 1.0 / 6.0

  public func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar> {
    let T = length, B = size, half = length / 2
    var x = [Scalar](repeating: 0, count: T * B * 2)
    var y = [Scalar](repeating: 0, count: B)
    for b in 0..<B {
      let first = Int.random(in: 0..<half, using: &generator)
      let second = Int.random(in: half..<T, using: &generator)
      var sum = 0.0
      for t in 0..<T {
        let u = generator.nextUnit()
        x[(t * B + b) * 2] = Scalar(u)
        if t == first || t == second {
          x[(t * B + b) * 2 + 1] = 1
          sum += u
        }
      }
      y[b] = Scalar(sum)
    }
    let batch = try SequenceBatch<Scalar>(
      steps: T, batchSize: B, inputs: .vectors(x, features: 2), targets: .classes(Array(repeating: -1, count: T * B)))
    return TrainingBatch(batch: batch, finalTargets: .values(y, width: 1))
  }

  /// The test MSE on 1000 fresh sequences (the standard figure), against the mean predictor's 0.167.
  public func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator)
    throws -> TaskEvaluation
  {
    var none: RecurrentNetwork<Scalar>? = nil
    var total = 0.0
    for _ in 0..<4 {
      let test: TrainingBatch<Scalar> = try makeBatch(size: 250, generator: &generator)
      total += try network.finalStepLoss(for: test.batch, targets: test.finalTargets!, loss: .squaredError, gradient: &none).loss
    }
    let mse = total / 4
    return TaskEvaluation(
      primary: TaskMetric("test MSE", mse, higherIsBetter: false), baseline: Self.meanBaseline, solved: mse < 0.01)
  }
}

import Foundation

/// System identification: learn the transduction of a known, stable linear time-invariant system (the
/// chapter's s_t = A s_{t-1} + B x_t, y_t = C s_t) from its input–output trajectories.
///
/// Inputs are drawn from N(0, 1) and the targets are the system's outputs from s_0 = 0, with a squared error
/// at every step. The standard figure is the test MSE of the learned transduction against the system's own
/// outputs, next to the MSE of predicting the mean output 0 (the output's variance); their ratio is the
/// normalized error 1 − R². Solved when the normalized error is below 0.02.
public struct LTIIdentificationTask: SequenceTask {
  /// T, the trajectory length.
  public let length: Int
  /// The system to identify.
  public let system: LinearTimeInvariantSystem

  /// The default system: a damped oscillator with poles 0.9 e^{±0.3i} (a state of m = 2), one input and one
  /// output.
  public static let dampedOscillator: LinearTimeInvariantSystem = {
    let r = 0.9, w = 0.3
    return try! LinearTimeInvariantSystem(
      A: [[r * Foundation.cos(w), -r * Foundation.sin(w)], [r * Foundation.sin(w), r * Foundation.cos(w)]],
      B: [[0.5], [0.0]], C: [[1.0, 0.5]])
  }()

  /// The task of identifying `system` from sequences of `length` steps.
  ///
  /// - Throws: ``TaskError`` for a length below 1.
  public init(length: Int, system: LinearTimeInvariantSystem = dampedOscillator) throws {
    guard length >= 1 else { throw TaskError("system identification needs T ≥ 1, got \(length)") }
    self.length = length
    self.system = system
  }

  public var name: String { "lti" }
  public var summary: String {
    "LTI system identification: learn y_t = C s_t, s_t = A s_{t-1} + B x_t (m = \(system.stateSize)) from trajectories of T = \(length)"
  }
  public var inputSize: Int { system.inputSize }
  public var outputSize: Int { system.outputSize }
  public var outputActivation: OutputActivation { .identity }
  public var loss: ElementLoss { .squaredError }

  /// `count` input sequences from N(0, 1) and the system's response to each.
  public func trajectories(count: Int, length: Int, generator: inout SeededGenerator) throws
    -> (inputs: [[[Double]]], outputs: [[[Double]]])
  {
    var xs: [[[Double]]] = [], ys: [[[Double]]] = []
    for _ in 0..<count {
      let x = (0..<length).map { _ in (0..<system.inputSize).map { _ in generator.nextNormal() } }
      xs.append(x)
      ys.append(try system.response(to: x))
    }
    return (xs, ys)
  }

  public func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar> {
    let (x, y) = try trajectories(count: size, length: length, generator: &generator)
    return TrainingBatch(
      batch: try SequenceBatch(
        inputs: x.map { $0.map { $0.map { Scalar($0) } } }, targets: y.map { $0.map { $0.map { Scalar($0) } } }))
  }

  /// The mean squared error per output of the network against the system on `count` fresh trajectories of
  /// `length` steps, and the mean square of the system's outputs (the error of predicting 0).
  public func transductionError<Scalar: RecurScalar>(
    of network: RecurrentNetwork<Scalar>, count: Int, length: Int, generator: inout SeededGenerator
  ) throws -> (mse: Double, outputPower: Double) {
    let (x, y) = try trajectories(count: count, length: length, generator: &generator)
    let batch = try SequenceBatch<Scalar>(
      inputs: x.map { $0.map { $0.map { Scalar($0) } } }, targets: y.map { $0.map { $0.map { Scalar($0) } } })
    let g = try network.outputs(for: batch).outputs.scalars
    let V = outputSize
    var err = 0.0, power = 0.0
    for b in 0..<count {
      for t in 0..<length {
        for v in 0..<V {
          let target = y[b][t][v]
          let d = Double(g[(t * count + b) * V + v]) - target
          err += d * d
          power += target * target
        }
      }
    }
    let n = Double(count * length * V)
    return (err / n, power / n)
  }

  /// Test MSE on 200 fresh trajectories of length T (the standard figure), the normalized error, and the
  /// normalized error on trajectories four times longer.
  public func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator)
    throws -> TaskEvaluation
  {
    let atT = try transductionError(of: network, count: 200, length: length, generator: &generator)
    let longer = try transductionError(of: network, count: 50, length: 4 * length, generator: &generator)
    let normalized = atT.mse / atT.outputPower
    return TaskEvaluation(
      primary: TaskMetric("test MSE", atT.mse, higherIsBetter: false),
      others: [
        TaskMetric("normalized error 1 − R²", normalized, higherIsBetter: false),
        TaskMetric("normalized error at 4T", longer.mse / longer.outputPower, higherIsBetter: false),
      ],
      baseline: atT.outputPower, solved: normalized < 0.02)
  }
}

import Dispatch

/// How long a run's steps take, and so how many fit in a time budget: what a cosine schedule needs to end its
/// decay when the time runs out (``LearningRateSchedule/fitted(toSteps:)``).
public struct StepTiming: Sendable, Equatable {
  /// The seconds of one training step.
  public var secondsPerStep: Double
  /// The seconds of one validation pass (0 without validation).
  public var validationSeconds: Double

  /// A timing; see each property.
  public init(secondsPerStep: Double, validationSeconds: Double = 0) {
    self.secondsPerStep = secondsPerStep
    self.validationSeconds = validationSeconds
  }

  /// A validation pass over `batches` batches of a training step's size, forward only: about a third of a
  /// training step per batch.
  public static func forwardOnlySeconds(batches: Double, secondsPerStep: Double) -> Double {
    batches * secondsPerStep / 3
  }

  /// The steps that fit in `seconds` when every `validationInterval` steps also run one validation:
  /// seconds / (step + validation / interval), at least 1.
  public func steps(in seconds: Double, validationInterval: Int) -> Int {
    let effective = secondsPerStep + validationSeconds / Double(max(validationInterval, 1))
    return max(1, Int(seconds / effective))
  }

  /// Measures the seconds of one training step: a new trainer over copies of `network` and `data` takes two
  /// steps to allocate its workspaces, then six timed steps; the median of the six (robust to a busy moment).
  ///
  /// - Throws: errors of the options or of the steps.
  public static func measureSecondsPerStep<Data: TrainingData>(
    network: RecurrentNetwork<Data.Scalar>, data: Data, options: TrainerOptions
  ) throws -> Double {
    var probeOptions = options
    probeOptions.budget = TrainingBudget(steps: 8)
    let probe = try Trainer(network: network, data: data, options: probeOptions)
    for _ in 0..<2 { try probe.step() }
    var times: [Double] = []
    for _ in 0..<6 {
      let start = DispatchTime.now().uptimeNanoseconds
      try probe.step()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[3]
  }
}

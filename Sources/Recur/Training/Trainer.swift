import Foundation

/// When a run ends. Any combination may be set; the run stops at the first limit reached. Steps and epochs
/// count from the start of training (a resumed run continues towards the same totals); seconds count the
/// wall-clock time of this call to ``Trainer/run()``.
public struct TrainingBudget: Sendable, Codable, Equatable {
  /// The total number of optimizer steps.
  public var steps: Int?
  /// The total number of completed passes over the training data.
  public var epochs: Int?
  /// The wall-clock seconds of this run.
  public var seconds: Double?

  /// A budget of the given limits (at least one must be set for a run).
  public init(steps: Int? = nil, epochs: Int? = nil, seconds: Double? = nil) {
    self.steps = steps
    self.epochs = epochs
    self.seconds = seconds
  }
}

/// Everything that decides how a run trains. Saved in every checkpoint, so a resumed run trains exactly as
/// the run that stopped.
public struct TrainerOptions: Sendable, Codable, Equatable {
  /// The update rule and its base learning rate.
  public var optimizer: Optimizer
  /// η_t as a function of the step.
  public var schedule: LearningRateSchedule
  /// Gradient clipping before each update.
  public var clipping: GradientClipping
  /// L_elt.
  public var loss: ElementLoss
  /// How element losses combine into the minimized number.
  public var reduction: LossReduction
  /// When to stop.
  public var budget: TrainingBudget
  /// Compute the validation loss every this many steps (needs ``Trainer/validation``).
  public var validationInterval: Int?
  /// Stop when this many validations in a row bring no new best validation loss.
  public var earlyStoppingPatience: Int?
  /// Save a checkpoint every this many steps (and always at the end), when the trainer has a checkpoint URL.
  public var checkpointInterval: Int?
  /// Stop with ``TrainingError/diverged(step:reason:)`` when a step's loss exceeds this multiple of the
  /// starting loss (nil: only NaN and infinity stop the run).
  public var divergenceFactor: Double?
  /// The starting loss is the mean loss of this many first steps (the mean of those seen so far before then).
  public var divergenceReferenceSteps: Int
  /// Seeds the dropout masks.
  public var seed: UInt64

  /// Options for a run; only the optimizer, the loss and the budget have no default.
  public init(
    optimizer: Optimizer, schedule: LearningRateSchedule = .constant, clipping: GradientClipping = .none,
    loss: ElementLoss, reduction: LossReduction = .meanOverSteps, budget: TrainingBudget,
    validationInterval: Int? = nil, earlyStoppingPatience: Int? = nil, checkpointInterval: Int? = nil,
    divergenceFactor: Double? = 3, divergenceReferenceSteps: Int = 10, seed: UInt64 = 0
  ) {
    self.optimizer = optimizer
    self.schedule = schedule
    self.clipping = clipping
    self.loss = loss
    self.reduction = reduction
    self.budget = budget
    self.validationInterval = validationInterval
    self.earlyStoppingPatience = earlyStoppingPatience
    self.checkpointInterval = checkpointInterval
    self.divergenceFactor = divergenceFactor
    self.divergenceReferenceSteps = divergenceReferenceSteps
    self.seed = seed
  }

  /// Checks every option; throws an ``OptimizerError``, a ``ScheduleError`` or a ``TrainerOptionsError`` naming
  /// the first that is out of range.
  public func validate() throws {
    try optimizer.validate()
    try schedule.validate()
    guard budget.steps != nil || budget.epochs != nil || budget.seconds != nil else {
      throw TrainerOptionsError("the training budget needs a number of steps, epochs or seconds")
    }
    for (value, name) in [(budget.steps, "step budget"), (budget.epochs, "epoch budget"),
      (validationInterval, "validation interval"), (earlyStoppingPatience, "early-stopping patience"),
      (checkpointInterval, "checkpoint interval")]
    {
      if let value, value < 1 { throw TrainerOptionsError("\(name) must be at least 1, got \(value)") }
    }
    if let seconds = budget.seconds, !(seconds > 0) { throw TrainerOptionsError("time budget must be positive, got \(seconds)") }
    switch clipping {
    case .none: break
    case .globalNorm(let x), .value(let x):
      guard x.isFinite, x > 0 else { throw TrainerOptionsError("clipping threshold must be positive, got \(x)") }
    }
    if let factor = divergenceFactor, !(factor > 1) { throw TrainerOptionsError("divergence factor must exceed 1, got \(factor)") }
    guard divergenceReferenceSteps >= 1 else { throw TrainerOptionsError("divergence reference needs at least one step") }
  }
}

/// A ``TrainerOptions`` value out of range (a budget, an interval, the clipping threshold or the divergence
/// guard). Its description is one line naming the problem.
public struct TrainerOptionsError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

/// Where a run is: everything beyond the weights and the optimizer state that a resumed run needs to continue
/// bitwise as if it had never stopped.
public struct TrainingPosition<Scalar: RecurScalar>: Sendable, Equatable {
  /// The number of optimizer steps taken.
  public var step: Int
  /// The position of the next training batch.
  public var data: DataPosition
  /// The dropout generator's state.
  public var dropoutGenerator: SeededGenerator
  /// The final state of the last batch, carried into the next one by truncated BPTT (nil when none).
  public var carriedState: RecurrentState<Scalar>?
  /// Training seconds so far, over every run of this training.
  public var elapsed: Double
  /// The losses of the first steps (up to ``TrainerOptions/divergenceReferenceSteps``): the starting loss is
  /// their mean.
  public var startingLosses: [Double]
  /// The most recent validation loss.
  public var lastValidationLoss: Double?
  /// The best validation loss so far.
  public var bestValidationLoss: Double?
  /// Validations in a row without a new best.
  public var validationsWithoutImprovement: Int

  /// The position at the start of training.
  public init(data: DataPosition, seed: UInt64) {
    step = 0
    self.data = data
    dropoutGenerator = SeededGenerator(seed: seed)
    carriedState = nil
    elapsed = 0
    startingLosses = []
    lastValidationLoss = nil
    bestValidationLoss = nil
    validationsWithoutImprovement = 0
  }

  /// The reference for the divergence guard: the mean of the recorded starting losses (nil before the first).
  public var startingLoss: Double? {
    startingLosses.isEmpty ? nil : startingLosses.reduce(0, +) / Double(startingLosses.count)
  }
}

/// A run that cannot go on.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The loss or the gradient is not finite, or the loss exceeded the divergence factor times the starting
  /// loss. No update was applied and no checkpoint was written for this step.
  case diverged(step: Int, reason: String)

  public var description: String {
    switch self {
    case .diverged(let step, let reason):
      "training diverged at step \(step): \(reason); the last checkpoint is left as it was (try a lower learning rate or clipping)"
    }
  }
}

/// What one step did.
public struct StepReport: Sendable, Equatable {
  /// The number of steps taken, this one included.
  public var step: Int
  /// The completed passes over the data after this step.
  public var epoch: Int
  /// The batch's loss (as reduced by ``TrainerOptions/reduction``), before the update.
  public var loss: Double
  /// The global gradient norm before clipping.
  public var gradientNorm: Double
  /// η used for the update.
  public var learningRate: Double
  /// Unpadded steps (tokens) in the batch.
  public var tokens: Int
  /// Wall-clock seconds of the step.
  public var seconds: Double
  /// The validation loss, when it was computed after this step.
  public var validationLoss: Double?
}

/// A live view of a run for progress displays.
public struct TrainingProgress: Sendable {
  /// The step just taken.
  public var report: StepReport
  /// Training seconds so far (over every run of this training).
  public var elapsed: Double
  /// Training tokens per second over this step.
  public var tokensPerSecond: Double
  /// The best validation loss so far.
  public var bestValidationLoss: Double?
  /// An estimate of the seconds left in the budget (nil when it cannot be told).
  public var secondsRemaining: Double?
}

/// Why a run ended.
public enum StopReason: String, Sendable, Equatable {
  /// ``TrainingBudget/steps`` was reached.
  case stepBudget
  /// ``TrainingBudget/epochs`` was reached.
  case epochBudget
  /// ``TrainingBudget/seconds`` was reached.
  case timeBudget
  /// ``TrainerOptions/earlyStoppingPatience`` validations brought no new best.
  case earlyStopping
  /// A stop was requested through ``Trainer/stopFlag`` (for example by SIGINT).
  case interrupted
}

/// The end of a run.
public struct TrainingOutcome: Sendable {
  /// Why the run ended.
  public var reason: StopReason
  /// The number of steps taken in all, over every run of this training.
  public var step: Int
  /// The most recent validation loss, if any was computed.
  public var lastValidationLoss: Double?
  /// The best validation loss of the training, if any was computed.
  public var bestValidationLoss: Double?
}

/// Trains a ``RecurrentNetwork`` from a ``TrainingData`` source: BPTT (full, or truncated with the state
/// carried from chunk to chunk), clipping, a scheduled optimizer step, validation and early stopping, metrics
/// as JSON Lines, checkpoints, a divergence guard and clean stops.
///
/// It is the one training loop: language models (``TextBatches``), your own sequence pairs
/// (``SequencePairs``) and the built-in tasks (``TaskBatches``, also behind
/// ``SequenceTask/train(cell:hiddenSize:options:as:progress:)``) all train through ``step()``.
///
/// The same network, data, options and seed give bitwise-identical weights after N steps; a run stopped at
/// step k and resumed from its checkpoint (``init(resuming:data:options:)``) gives the same weights at step N
/// as the run that never stopped. (The GEMM kernels give identical results for any thread count, so this holds
/// on any number of cores.)
public final class Trainer<Source: TrainingData> {
  /// The element type of the network and its data.
  public typealias Scalar = Source.Scalar

  /// θ.
  public private(set) var network: RecurrentNetwork<Scalar>
  /// The optimizer's buffers and step count.
  public private(set) var optimizerState: OptimizerState<Scalar>
  /// The run's position.
  public private(set) var position: TrainingPosition<Scalar>
  /// The training batches.
  public private(set) var data: Source
  /// How the run trains.
  public let options: TrainerOptions

  /// Where checkpoints go (written atomically; nil: no checkpoints).
  public var checkpointURL: URL?
  /// Where per-step metrics go, one JSON object per line, appended (nil: none).
  public var metricsURL: URL?
  /// Extra checkpoint metadata (for example a vocabulary); keys must not start with "model." or "recur.".
  public var metadata: [String: String] = [:]
  /// The validation loss of a network (called every ``TrainerOptions/validationInterval`` steps).
  public var validation: ((RecurrentNetwork<Scalar>) throws -> Double)?
  /// Called after every step.
  public var onProgress: ((TrainingProgress) -> Void)?
  /// Polled between steps; set it (or route SIGINT to it) to stop cleanly with a checkpoint.
  public var stopFlag = StopFlag()

  private let workspace = NetworkWorkspace<Scalar>()
  private var gradient: RecurrentNetwork<Scalar>

  /// A new run from step 0.
  ///
  /// - Throws: ``TrainerOptionsError``, ``OptimizerError`` or ``ScheduleError`` for invalid options.
  public init(network: RecurrentNetwork<Scalar>, data: Source, options: TrainerOptions) throws {
    try options.validate()
    self.network = network
    self.data = data
    self.options = options
    optimizerState = OptimizerState()
    position = TrainingPosition(data: data.position, seed: options.seed)
    gradient = network.zeros()
  }

  /// A run that continues a checkpoint exactly where it stopped.
  ///
  /// - Parameters:
  ///   - checkpoint: a checkpoint written by a trainer (with optimizer state and position).
  ///   - data: the same training data as the stopped run; it is moved to the saved position.
  ///   - options: the options, normally nil to use the saved ones (changing them breaks exact resumption).
  /// - Throws: ``CheckpointError`` when the checkpoint has no trainer state, ``TrainingDataError`` when the data
  ///   cannot take the saved position.
  public init(resuming checkpoint: Checkpoint<Scalar>, data: Source, options: TrainerOptions? = nil) throws {
    guard let saved = checkpoint.position, let state = checkpoint.optimizerState,
      let options = options ?? checkpoint.options
    else {
      throw CheckpointError("the checkpoint holds a model but no trainer state to resume from; start a new run from its weights instead")
    }
    try options.validate()
    var data = data
    try data.restore(saved.data)
    self.network = checkpoint.network
    self.data = data
    self.options = options
    optimizerState = state
    position = saved
    metadata = checkpoint.metadata
    gradient = checkpoint.network.zeros()
  }

  /// The run's current state as a checkpoint.
  public func checkpoint() -> Checkpoint<Scalar> {
    Checkpoint(
      network: network, optimizerState: optimizerState, position: position, options: options, metadata: metadata)
  }

  /// Takes one training step: the next batch, BPTT, clipping, the divergence guard, the optimizer update.
  ///
  /// - Throws: ``TrainingError/diverged(step:reason:)`` before updating when the loss or gradient is not
  ///   finite or the loss is above the divergence factor times the starting loss.
  @discardableResult
  public func step() throws -> StepReport {
    let start = DispatchTime.now().uptimeNanoseconds
    let item = try data.nextBatch()
    gradient.zeroAll()
    var dropout: SeededGenerator? = position.dropoutGenerator
    let result = try network.accumulateGradient(
      for: item.batch, finalTargets: item.finalTargets, loss: options.loss, reduction: options.reduction,
      initialState: item.continuesPrevious ? position.carriedState : nil, into: &gradient, workspace: workspace,
      dropoutGenerator: &dropout)
    let norm = gradient.clip(options.clipping)
    let stepNumber = position.step + 1
    if !result.loss.isFinite {
      throw TrainingError.diverged(step: stepNumber, reason: "the loss is \(result.loss)")
    }
    if !norm.isFinite {
      throw TrainingError.diverged(step: stepNumber, reason: "the gradient norm is \(norm)")
    }
    if let factor = options.divergenceFactor, let reference = position.startingLoss, result.loss > factor * reference {
      throw TrainingError.diverged(
        step: stepNumber,
        reason: "the loss \(result.loss) is over \(factor)× the starting loss \(reference)")
    }
    let lr = options.schedule.learningRate(step: position.step, base: options.optimizer.learningRate)
    options.optimizer.update(&network, gradient: gradient, state: &optimizerState, learningRate: lr)

    position.step = stepNumber
    position.data = data.position
    position.dropoutGenerator = dropout ?? position.dropoutGenerator
    position.carriedState = result.finalState
    if position.startingLosses.count < options.divergenceReferenceSteps { position.startingLosses.append(result.loss) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    position.elapsed += seconds
    return StepReport(
      step: stepNumber, epoch: data.position.epoch, loss: result.loss, gradientNorm: norm, learningRate: lr,
      tokens: result.elementCount, seconds: seconds, validationLoss: nil)
  }

  /// Trains until the budget is spent, early stopping fires, or a stop is requested; writes metrics and
  /// checkpoints along the way and a checkpoint at the end.
  ///
  /// - Throws: ``TrainingError`` on divergence (the last checkpoint is not touched), errors of the data
  ///   source, the validation closure, or writing files.
  @discardableResult
  public func run() throws -> TrainingOutcome {
    let runStart = DispatchTime.now().uptimeNanoseconds
    func runSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e9 }
    let metrics = try metricsURL.map { try MetricsLog(url: $0, keepingStepsUpTo: position.step) }
    let firstStep = position.step
    var reason: StopReason
    while true {
      if let steps = options.budget.steps, position.step >= steps { reason = .stepBudget; break }
      if let epochs = options.budget.epochs, data.position.epoch >= epochs { reason = .epochBudget; break }
      if let seconds = options.budget.seconds, runSeconds() >= seconds { reason = .timeBudget; break }
      if stopFlag.isStopRequested { reason = .interrupted; break }

      var report = try step()
      var stopEarly = false
      if let interval = options.validationInterval, let validation, report.step % interval == 0 {
        let loss = try validation(network)
        report.validationLoss = loss
        position.lastValidationLoss = loss
        if let best = position.bestValidationLoss, !(loss < best) {
          position.validationsWithoutImprovement += 1
        } else {
          position.bestValidationLoss = loss
          position.validationsWithoutImprovement = 0
        }
        if let patience = options.earlyStoppingPatience, position.validationsWithoutImprovement >= patience {
          stopEarly = true
        }
      }
      let tokensPerSecond = Double(report.tokens) / max(report.seconds, 1e-9)
      try metrics?.append(report, time: position.elapsed, tokensPerSecond: tokensPerSecond)
      onProgress?(
        TrainingProgress(
          report: report, elapsed: position.elapsed, tokensPerSecond: tokensPerSecond,
          bestValidationLoss: position.bestValidationLoss,
          secondsRemaining: secondsRemaining(runSeconds: runSeconds(), stepsThisRun: position.step - firstStep)))
      if stopEarly { reason = .earlyStopping; break }
      if let interval = options.checkpointInterval, position.step % interval == 0, let checkpointURL {
        try checkpoint().write(to: checkpointURL)
      }
    }
    if let checkpointURL { try checkpoint().write(to: checkpointURL) }
    return TrainingOutcome(
      reason: reason, step: position.step, lastValidationLoss: position.lastValidationLoss,
      bestValidationLoss: position.bestValidationLoss)
  }

  /// The smallest estimate over the budget's limits, from this run's mean step time.
  private func secondsRemaining(runSeconds: Double, stepsThisRun: Int) -> Double? {
    let perStep = runSeconds / Double(max(stepsThisRun, 1))
    var estimates: [Double] = []
    if let steps = options.budget.steps { estimates.append(Double(max(steps - position.step, 0)) * perStep) }
    if let epochs = options.budget.epochs {
      let left = (epochs - data.position.epoch) * data.batchesPerEpoch - data.position.batchIndex
      estimates.append(Double(max(left, 0)) * perStep)
    }
    if let seconds = options.budget.seconds { estimates.append(max(seconds - runSeconds, 0)) }
    return estimates.min()
  }
}

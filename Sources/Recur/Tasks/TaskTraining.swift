import Foundation

/// How a network is trained on a generated task: the optimizer, clipping, batch size and budget. Every
/// batch is freshly generated (the data never repeats), so there are no epochs.
public struct TaskTrainingOptions: Sendable {
  /// The optimizer (by default ``RunDefaults/sequenceModel``'s: Adam with η = 0.01).
  public var optimizer: Optimizer
  /// The learning-rate schedule.
  public var schedule: LearningRateSchedule
  /// Gradient clipping (by default ``RunDefaults/sequenceModel``'s global norm 1, as Pascanu et al. 2013
  /// recommend for RNNs).
  public var clipping: GradientClipping
  /// B, sequences per step.
  public var batchSize: Int
  /// Stop after this many steps, if set.
  public var steps: Int?
  /// Stop after this many seconds of training, if set.
  public var seconds: Double?
  /// The initialization (PyTorch's default unless set; an LSTM forget-gate bias of 1 helps long tasks).
  public var initialization: Initialization?
  /// Stop early once the task's running loss is below this value, if set.
  public var targetLoss: Double?
  /// Seeds the network's initialization and the generated data.
  public var seed: UInt64

  /// Options for training on a task; see each property. The defaults are ``RunDefaults/sequenceModel``'s.
  public init(
    optimizer: Optimizer = RunDefaults.sequenceModel.defaultOptimizer, schedule: LearningRateSchedule = .constant,
    clipping: GradientClipping = RunDefaults.sequenceModel.clipping,
    batchSize: Int = RunDefaults.sequenceModel.batchSize, steps: Int? = RunDefaults.sequenceModel.defaultSteps,
    seconds: Double? = nil, initialization: Initialization? = nil, targetLoss: Double? = nil,
    seed: UInt64 = RunDefaults.sequenceModel.seed
  ) {
    self.optimizer = optimizer
    self.schedule = schedule
    self.clipping = clipping
    self.batchSize = batchSize
    self.steps = steps
    self.seconds = seconds
    self.initialization = initialization
    self.targetLoss = targetLoss
    self.seed = seed
  }

  /// Checks the options; throws a ``TaskError`` naming the first that is out of range.
  public func validate() throws {
    guard batchSize >= 1 else { throw TaskError("the batch size must be at least 1, got \(batchSize)") }
    if let steps, steps < 1 { throw TaskError("the number of steps must be at least 1, got \(steps)") }
    if let seconds, !(seconds > 0) { throw TaskError("the time budget must be positive, got \(seconds)") }
    guard steps != nil || seconds != nil else { throw TaskError("give a number of steps or a time budget") }
    try optimizer.validate()
    try schedule.validate()
  }
}

/// What a run on a task did.
public struct TaskTrainingResult<Scalar: RecurScalar>: Sendable {
  /// The trained network.
  public var network: RecurrentNetwork<Scalar>
  /// The optimizer state at the end (for a checkpoint).
  public var optimizerState: OptimizerState<Scalar>
  /// The number of updates taken.
  public var steps: Int
  /// Training time in seconds.
  public var seconds: Double
  /// The training loss of every step.
  public var losses: [Double]

  /// The mean training loss over the last `window` steps.
  public func recentLoss(window: Int = 50) -> Double {
    let tail = losses.suffix(window)
    return tail.reduce(0, +) / Double(max(tail.count, 1))
  }
}

/// A generated task as a training data source for ``Trainer``: every batch is B fresh sequences drawn from
/// the task (the data never repeats), with the task's final-step targets when it has them.
///
/// Since no batch comes twice, one pass over the data is one batch: ``DataPosition/epoch`` counts the batches
/// drawn, and the position holds the generator that draws the next one, so a run resumes exactly.
public struct TaskBatches<Scalar: RecurScalar>: TrainingData, Sendable {
  /// The task the batches come from.
  public let task: any SequenceTask
  /// B, sequences per batch.
  public let batchSize: Int
  public private(set) var position: DataPosition

  /// Batches of `batchSize` sequences of `task`, drawn from a generator seeded by `seed` (offset by 0xDA7A, so
  /// that the same seed may also seed the network's initialization without the two streams coinciding).
  ///
  /// - Throws: ``TrainingDataError`` when B < 1.
  public init(_ task: any SequenceTask, batchSize: Int, seed: UInt64) throws {
    guard batchSize >= 1 else { throw TrainingDataError("batch size must be at least 1, got \(batchSize)") }
    self.task = task
    self.batchSize = batchSize
    position = DataPosition(epoch: 0, batchIndex: 0, generator: SeededGenerator(seed: seed &+ 0xDA7A))
  }

  /// 1: every batch is new data.
  public var batchesPerEpoch: Int { 1 }

  public mutating func restore(_ position: DataPosition) throws {
    guard position.epoch >= 0, position.batchIndex == 0 else {
      throw TrainingDataError("data position batch \(position.batchIndex) is outside 0..<1")
    }
    self.position = position
  }

  public mutating func nextBatch() throws -> TrainingBatch<Scalar> {
    var generator = position.generator
    let drawn: TrainingBatch<Scalar> = try task.makeBatch(size: batchSize, generator: &generator)
    position = DataPosition(epoch: position.epoch + 1, batchIndex: 0, generator: generator)
    return drawn
  }
}

extension TaskTrainingOptions {
  /// The trainer's options for a task with loss `loss`: the chapter's objective J(W) (summed over steps,
  /// averaged over sequences; the mean over sequences of the last-step loss for final-step tasks), this
  /// budget, no divergence guard beyond non-finite values.
  public func trainerOptions(loss: ElementLoss) -> TrainerOptions {
    TrainerOptions(
      optimizer: optimizer, schedule: schedule, clipping: clipping, loss: loss, reduction: .meanOverSequences,
      budget: TrainingBudget(steps: steps, seconds: seconds), divergenceFactor: nil, seed: seed)
  }
}

extension SequenceTask {
  /// Trains a fresh network with the given cell on this task.
  ///
  /// Each step draws a new batch, computes the loss and its gradient by BPTT (at every step, or at the last
  /// step only for tasks such as the adding problem), clips, and applies the optimizer: a ``Trainer`` over
  /// ``TaskBatches``.
  ///
  /// - Parameters:
  ///   - cell: the recurrent cell.
  ///   - hiddenSize: H.
  ///   - options: optimizer, budget, seed.
  ///   - as: the scalar type to train in (`Float` by default).
  ///   - progress: called after every step with the step number and its loss.
  /// - Throws: ``TrainingError/diverged(step:reason:)`` when a loss or gradient is not finite, and errors of the
  ///   options or the task.
  public func train<Scalar: RecurScalar>(
    cell: CellKind, hiddenSize: Int, options: TaskTrainingOptions, as _: Scalar.Type = Float.self,
    progress: ((Int, Double) -> Void)? = nil
  ) throws -> TaskTrainingResult<Scalar> {
    try options.validate()
    var initGenerator = SeededGenerator(seed: options.seed)
    var network = try RecurrentNetwork<Scalar>(
      networkConfiguration(cell: cell, hiddenSize: hiddenSize), generator: &initGenerator)
    if let initialization = options.initialization {
      try network.initialize(initialization, generator: &initGenerator)
    }
    return try train(network, options: options, progress: progress)
  }

  /// Continues training `network` on this task (see ``train(cell:hiddenSize:options:as:progress:)``).
  public func train<Scalar: RecurScalar>(
    _ network: RecurrentNetwork<Scalar>, options: TaskTrainingOptions, progress: ((Int, Double) -> Void)? = nil
  ) throws -> TaskTrainingResult<Scalar> {
    try options.validate()
    let trainer = try Trainer(
      network: network, data: TaskBatches<Scalar>(self, batchSize: options.batchSize, seed: options.seed),
      options: options.trainerOptions(loss: loss))
    var losses: [Double] = []
    trainer.onProgress = { [stopFlag = trainer.stopFlag] state in
      let (step, loss) = (state.report.step, state.report.loss)
      losses.append(loss)
      progress?(step, loss)
      if let target = options.targetLoss, losses.count >= 20, losses.suffix(20).reduce(0, +) / 20 < target {
        _ = stopFlag.requestStop()
      }
    }
    try trainer.run()
    return TaskTrainingResult(
      network: trainer.network, optimizerState: trainer.optimizerState, steps: trainer.position.step,
      seconds: trainer.position.elapsed, losses: losses)
  }
}

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
  /// For batches with one target per sequence (``TrainingBatch/finalTargets``): how each sequence's outputs
  /// are read, pooled or the last step (the chapter's final-step loss, the default).
  public var readout: SequenceReadout = .last
  /// For batches with one target per sequence: the class weights w_k of the loss (nil: all 1).
  public var classWeights: [Double]? = nil
  /// An average θ̄ of the weights kept beside them, used by validation and written to checkpoints (nil: none).
  /// Options saved before this setting existed read as nil.
  public var averaging: WeightAveraging? = nil

  /// Options for a run; only the optimizer, the loss and the budget have no default.
  public init(
    optimizer: Optimizer, schedule: LearningRateSchedule = .constant, clipping: GradientClipping = .none,
    loss: ElementLoss, reduction: LossReduction = .meanOverSteps, budget: TrainingBudget,
    validationInterval: Int? = nil, earlyStoppingPatience: Int? = nil, checkpointInterval: Int? = nil,
    divergenceFactor: Double? = 3, divergenceReferenceSteps: Int = 10, seed: UInt64 = 0,
    averaging: WeightAveraging? = nil
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
    self.averaging = averaging
  }

  /// Checks every option; throws an ``OptimizerError``, a ``ScheduleError``, a ``WeightAveragingError`` or a
  /// ``TrainerOptionsError`` naming the first that is out of range.
  public func validate() throws {
    try optimizer.validate()
    try schedule.validate()
    try averaging?.validate()
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
  /// θ̄, the average of the weights that ``TrainerOptions/averaging`` asks for, updated after every optimizer
  /// step (nil without averaging).
  public private(set) var average: WeightAverage<Scalar>?
  /// θ̄ once it holds at least one iterate θ_t (nil before the averaging starts, or without averaging).
  public var averagedNetwork: RecurrentNetwork<Scalar>? {
    guard let average, average.count > 0 else { return nil }
    return average.network
  }
  /// The weights to evaluate with: θ̄ once averaging has started, θ before (and without averaging).
  public var evaluationNetwork: RecurrentNetwork<Scalar> { averagedNetwork ?? network }
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
  /// The validation loss of a network (called every ``TrainerOptions/validationInterval`` steps with
  /// ``evaluationNetwork``: the average θ̄ once averaging has started, θ otherwise).
  public var validation: ((RecurrentNetwork<Scalar>) throws -> Double)?
  /// Called after every step.
  public var onProgress: ((TrainingProgress) -> Void)?
  /// Polled between steps; set it (or route SIGINT to it) to stop cleanly with a checkpoint.
  public var stopFlag = StopFlag()
  /// The ranks of a data-parallel run (a single process by default); set it before the first step.
  ///
  /// With N ranks, every rank runs the same trainer on the same data and options. Each step, rank r takes
  /// the sequences ``DataParallel/rows(batch:rank:ranks:)`` of the global batch (the same streams a
  /// one-process run uses, so the data order does not depend on N), with dropout masks keyed by the step,
  /// the layer and the global sequence index (so they do not depend on N either); the loss is normalised by
  /// the global count, an allreduce sums the gradient, and clipping and the update run identically on every
  /// rank. Rank 0's initial weights are sent to all before the first step. Only rank 0 writes checkpoints and
  /// metrics and calls ``onProgress``; a stop requested on any rank stops all at the same step; at every
  /// checkpoint a parameter checksum is compared across ranks. The result equals a one-process run with the
  /// same global batch up to the order of floating-point sums.
  public var communicator: any Communicator = SingleProcess()
  /// Extra settings (name, value) that every rank must share, compared before the first step (for example
  /// a digest of the training text); a difference stops every rank with a message naming it.
  public var sharedSettings: [(name: String, value: String)] = []
  /// Whether a run on several ranks overlaps the gradient's reduction with BPTT (on by default): the head's
  /// and each layer's gradient is summed over the ranks (a non-blocking allreduce) as soon as BPTT has finished
  /// it, top layer first, while the layers below are still back-propagating. Off, the whole gradient is summed
  /// after the backward pass. Either way the result is the same up to the order of floating-point sums; a
  /// single process never communicates.
  public var overlapsCommunication = true

  private let workspace = NetworkWorkspace<Scalar>()
  private var gradient: RecurrentNetwork<Scalar>
  /// The buffer and requests of the overlapped reduction (made at the first step that uses it).
  private var overlap: GradientOverlap<Scalar>?
  /// Whether the ranks have been checked and given rank 0's weights.
  private var synchronized = false
  /// The rows of the global batch that ``TrainingPosition/carriedState`` holds (nil: all of them).
  private var carriedRows: Range<Int>? = nil
  /// B of the last global batch.
  private var globalBatchSize = 0

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
    average = options.averaging.map { WeightAverage(averaging: $0, network: network) }
  }

  /// A run that continues a checkpoint exactly where it stopped.
  ///
  /// - Parameters:
  ///   - checkpoint: a checkpoint written by a trainer (with optimizer state and position).
  ///   - data: the same training data as the stopped run; it is moved to the saved position.
  ///   - options: the options, normally nil to use the saved ones (changing them breaks exact resumption).
  /// - Throws: ``CheckpointError`` when the checkpoint has no trainer state (or no average that the options
  ///   need), ``TrainingDataError`` when the data cannot take the saved position.
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
    if let averaging = options.averaging {
      if let kept = checkpoint.average, kept.averaging == averaging {
        average = kept
      } else if averaging.averagedCount(afterStep: saved.step) == 0 {
        average = WeightAverage(averaging: averaging, network: checkpoint.network)
      } else {
        throw CheckpointError(
          "the options average the weights from step \(averaging.start) but the checkpoint at step \(saved.step) holds no such average; resume with the saved options")
      }
    }
  }

  /// The run's current state as a checkpoint. (With several ranks, its carried state holds this rank's rows
  /// only; the checkpoints the trainer writes gather every rank's rows.)
  public func checkpoint() -> Checkpoint<Scalar> {
    Checkpoint(
      network: network, optimizerState: optimizerState, position: position, options: options, metadata: metadata,
      average: average)
  }

  /// The run's state with the carried states of every rank's rows: a collective operation with several ranks
  /// (every rank calls it at the same step).
  private func gatheredCheckpoint() throws -> Checkpoint<Scalar> {
    var checkpoint = checkpoint()
    if communicator.size > 1, let rows = carriedRows, let local = position.carriedState {
      checkpoint.position?.carriedState = try gather(local, rows: rows)
    }
    return checkpoint
  }

  /// The state of every row of the global batch from each rank's rows (summed into zeros).
  private func gather(_ local: RecurrentState<Scalar>, rows: Range<Int>) throws -> RecurrentState<Scalar> {
    let B = globalBatchSize, H = local.h.first?.columns ?? 0
    var flat = [Scalar](repeating: 0, count: (local.h.count + local.c.count) * B * H)
    var offset = 0
    for t in local.h + local.c {
      for i in 0..<(rows.count * H) { flat[offset + rows.lowerBound * H + i] = t.scalars[i] }
      offset += B * H
    }
    try communicator.allreduceSum(&flat)
    func tensor(_ k: Int) -> Tensor<Scalar> { Tensor(shape: [B, H], scalars: Array(flat[(k * B * H)..<((k + 1) * B * H)])) }
    return RecurrentState(h: (0..<local.h.count).map(tensor), c: (0..<local.c.count).map { tensor(local.h.count + $0) })
  }

  /// Before the first step of a run on several ranks: checks that every rank has the same options, data and
  /// settings, and gives every rank rank 0's weights.
  private func synchronize() throws {
    guard !synchronized else { return }
    synchronized = true
    guard communicator.size > 1 else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let optionsText = String(decoding: (try? encoder.encode(options)) ?? Foundation.Data(), as: UTF8.self)
    try communicator.checkSameSettings(
      sharedSettings + [
        ("trainer options", optionsText), ("batches per epoch", "\(data.batchesPerEpoch)"),
        ("step", "\(position.step)"), ("data position", "\(position.data.epoch).\(position.data.batchIndex)"),
        ("model", "\(network.configuration)"), ("overlapped reduction", "\(overlapsCommunication)"),
      ])
    let flat = network.flattened()
    let bytes = try communicator.broadcastFromRoot(flat.withUnsafeBytes { Array($0) })
    network.unflatten(bytes.withUnsafeBytes { Array($0.bindMemory(to: Scalar.self)) })
  }

  /// Compares a checksum of the parameters across ranks.
  ///
  /// - Throws: ``CommunicationError`` when some rank's parameters differ from rank 0's.
  public func checkParametersAgree() throws {
    guard communicator.size > 1 else { return }
    let sum = network.flattened().withUnsafeBytes { fingerprint($0) }
    let root = String(decoding: try communicator.broadcastFromRoot(Array(sum.utf8)), as: UTF8.self)
    var differing = [root == sum ? 0.0 : 1.0]
    try communicator.allreduceSum(&differing)
    if differing[0] > 0 {
      throw CommunicationError(
        "the parameters of \(Int(differing[0])) of \(communicator.size) ranks differ from rank 0's at step \(position.step) (checksum \(root)); the ranks ran different code, data or hardware arithmetic")
    }
  }

  /// Takes one training step: the next batch, BPTT, clipping, the divergence guard, the optimizer update.
  ///
  /// - Throws: ``TrainingError/diverged(step:reason:)`` before updating when the loss or gradient is not
  ///   finite or the loss is above the divergence factor times the starting loss.
  @discardableResult
  public func step() throws -> StepReport {
    try synchronize()
    let start = DispatchTime.now().uptimeNanoseconds
    let item = try data.nextBatch()
    gradient.zeroAll()
    // This rank's rows of the global batch, normalised by the global counts.
    let N = communicator.size
    let global = item.batch
    let mine = DataParallel.rows(batch: global.batchSize, rank: communicator.rank, ranks: N)
    let local = N == 1 ? global : global.rows(mine)
    let localTargets = N == 1 ? item.finalTargets : item.finalTargets?.rows(mine)
    let globalCount = item.finalTargets != nil ? global.batchSize : global.targetCount
    // With class weights, the weighted mean's 1/Σ_b w_{y_b} over the whole batch.
    let globalWeights = item.finalTargets?.rowWeights(classWeights: options.classWeights, outputs: network.configuration.outputSize)
    let globalScale = globalWeights.map { w in w.reduce(0, +) }.map { $0 > 0 ? 1 / $0 : 0 }
      ?? options.reduction.scale(sequences: global.batchSize, elements: globalCount)
    var dropoutGenerator = position.dropoutGenerator
    let masks = network.configuration.usesTrainingMasks
      ? DropoutMasks(key: dropoutGenerator.next(), firstStream: mine.lowerBound) : nil
    var initialState: RecurrentState<Scalar>? = nil
    if item.continuesPrevious, let carried = position.carriedState {
      initialState = carriedRows == mine || N == 1 ? carried : carried.rows(mine)
    }
    var result = LossResult<Scalar>(
      loss: 0, elementLossSum: 0, elementCount: 0, finalState: RecurrentState(h: []), initialStateGradient: nil,
      inputGradient: nil, futureLossGradientNorms: nil)
    var overlapping: GradientOverlap<Scalar>? = nil
    if N > 1, overlapsCommunication, let reducing = communicator as? any InPlaceReducing {
      if overlap == nil { overlap = GradientOverlap(communicator: reducing, network: gradient) }
      overlapping = overlap
      overlapping?.begin()
    }
    if let local {
      // One target per sequence is read by the readout (the last step by default), with optional class weights.
      result = try network.accumulateGradient(
        for: local, finalTargets: localTargets, readout: options.readout, classWeights: options.classWeights,
        loss: options.loss, reduction: options.reduction,
        globalScale: N == 1 ? nil : globalScale, initialState: initialState, into: &gradient, workspace: workspace,
        dropout: masks, overlap: overlapping)
    } else {
      overlapping?.finishedAll(gradient)
    }
    if N > 1 {
      if let overlapping {
        try overlapping.complete(into: &gradient)
      } else {
        var flat = gradient.flattened()
        try communicator.allreduceSum(&flat)
        gradient.unflatten(flat)
      }
      var sums = [result.elementLossSum, Double(result.elementCount)]
      try communicator.allreduceSum(&sums)
      result.elementLossSum = sums[0]
      result.elementCount = Int(sums[1])
      result.loss = sums[0] * globalScale
    }
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
    // θ̄ takes in θ_t (every rank holds the same θ_t, so every rank keeps the same θ̄).
    average?.update(with: network, afterStep: stepNumber)

    position.step = stepNumber
    position.data = data.position
    position.dropoutGenerator = dropoutGenerator
    position.carriedState = local == nil ? nil : result.finalState
    carriedRows = N == 1 ? nil : mine
    globalBatchSize = global.batchSize
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
    try synchronize()
    let isWriter = communicator.rank == 0
    let metrics = try metricsURL.flatMap { isWriter ? try MetricsLog(url: $0, keepingStepsUpTo: position.step) : nil }
    let firstStep = position.step
    var reason: StopReason
    while true {
      // With several ranks, the clock and the stop requests are rank 0's and anyone's: all ranks decide alike.
      var elapsed = runSeconds(), stopRequested = stopFlag.isStopRequested
      if communicator.size > 1 {
        var control = [isWriter ? elapsed : 0, stopRequested ? 1 : 0]
        try communicator.allreduceSum(&control)
        elapsed = control[0]
        stopRequested = control[1] > 0
      }
      if let steps = options.budget.steps, position.step >= steps { reason = .stepBudget; break }
      if let epochs = options.budget.epochs, data.position.epoch >= epochs { reason = .epochBudget; break }
      if let seconds = options.budget.seconds, elapsed >= seconds { reason = .timeBudget; break }
      if stopRequested { reason = .interrupted; break }

      var report = try step()
      var stopEarly = false
      if let interval = options.validationInterval, let validation, report.step % interval == 0 {
        let loss = try validation(evaluationNetwork)
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
      if isWriter { onProgress?(
        TrainingProgress(
          report: report, elapsed: position.elapsed, tokensPerSecond: tokensPerSecond,
          bestValidationLoss: position.bestValidationLoss,
          secondsRemaining: secondsRemaining(runSeconds: runSeconds(), stepsThisRun: position.step - firstStep)))
      }
      if stopEarly { reason = .earlyStopping; break }
      if let interval = options.checkpointInterval, position.step % interval == 0, let checkpointURL {
        try writeCheckpoint(to: checkpointURL)
      }
    }
    if let checkpointURL { try writeCheckpoint(to: checkpointURL) }
    return TrainingOutcome(
      reason: reason, step: position.step, lastValidationLoss: position.lastValidationLoss,
      bestValidationLoss: position.bestValidationLoss)
  }

  /// Checks that the ranks agree, then (rank 0) writes the checkpoint.
  private func writeCheckpoint(to url: URL) throws {
    try checkParametersAgree()
    let checkpoint = try gatheredCheckpoint()
    if communicator.rank == 0 { try checkpoint.write(to: url) }
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

import ArgumentParser
import Foundation
import Recur
import RecurExport

/// `recur train --text FILE`: trains a character (or byte) language model on a text file.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a character language model on a text file.",
    discussion: """
      The first 90% of the text trains and the last 10% validates. The defaults (\(Self.recipe)) train a good \
      model without tuning. The checkpoint, its metrics (JSON Lines) and a plot of the training and validation \
      loss (SVG) are written side by side. Ctrl-C stops after the current step and saves; --resume continues a \
      stopped run exactly.
      """
  )

  /// The defaults in words, from the library's `RunDefaults.languageModel`.
  static var recipe: String {
    let d = RunDefaults.languageModel, r = d.regularization
    var regularizers = d.dropout > 0 ? ["dropout \(d.dropout)"] : []
    if r.weightDrop > 0 { regularizers.append("weight drop \(r.weightDrop) on W_hh") }
    if r.inputDropout > 0 || r.hiddenDropout > 0 || r.outputDropout > 0 {
      regularizers.append("locked dropout \(r.inputDropout)/\(r.hiddenDropout)/\(r.outputDropout) (input/hidden/output)")
    }
    if r.embeddingDropout > 0 { regularizers.append("embedding dropout \(r.embeddingDropout)") }
    return "a \(d.layers)-layer \(d.cell.description.uppercased()), H = \(d.hiddenSize), E = \(d.embeddingSize ?? 0), "
      + regularizers.map { $0 + ", " }.joined() + "\(d.batchSize) streams of \(d.sequenceLength ?? 0) characters, "
      + "\(d.optimizer.rawValue.capitalized) \(d.adaptiveLearningRate) with warm-up and a cosine decay to 1/10, "
      + "global-norm clipping at \(d.clip.formatted())"
  }

  // MARK: Data

  @Option(help: "The text to train on (UTF-8 for the characters vocabulary, any file for bytes).")
  var text: String

  @Option(help: "How the text becomes training pairs: stream, B contiguous streams with truncated BPTT (default); lines or documents, the chapter's <start> … <end> pairs.")
  var mode: TextMode?

  @Option(help: "The tokens: characters (Unicode scalars, the default) or bytes.")
  var vocabulary: Vocabulary.Kind?

  @Option(name: .customLong("seq-len"), parsing: .unconditional, help: "T, the steps per chunk in stream mode (default \(RunDefaults.languageModel.sequenceLength ?? 0)); the longest sequence in lines/documents mode (default: the longest in the text).")
  var seqLen: Int?

  // MARK: Model

  @OptionGroup(title: "Model")
  var model: ModelOptions<LanguageModelDefaults>

  @Option(parsing: .unconditional, help: "E, the embedding size (default \(RunDefaults.languageModel.embeddingSize ?? 0); at most \(NetworkLimits.embeddingSize)).")
  var embedding: Int?

  // MARK: Optimization

  @OptionGroup(title: "Optimization")
  var optimization: OptimizationOptions<LanguageModelDefaults>

  // MARK: Budget and files

  @OptionGroup(title: "Run")
  var runOptions: RunOptions<LanguageModelDefaults>

  @Option(help: "Stop after this many passes over the training text (default \(RunDefaults.languageModel.defaultEpochs ?? 0) when no other budget is given).")
  var epochs: Int?

  @Option(name: .customLong("validate-every"), help: "Compute the validation loss (and print a sample) every this many steps (default: every \(RunDefaults.languageModel.validationTokens) training tokens, \(RunDefaults.languageModel.defaultValidationInterval) steps of the default batch).")
  var validateEvery: Int?

  @Option(help: "The checkpoint to write; metrics (.metrics.jsonl) and the loss plot (.loss.svg) go beside it.")
  var checkpoint = "model.safetensors"

  @Option(name: .customLong("init"), help: "Start a new run from this checkpoint's weights and vocabulary (Recur's or PyTorch's).")
  var initFrom: String?

  @Option(help: "Continue a stopped run from its checkpoint, exactly as if it had never stopped.")
  var resume: String?

  @Flag(help: "Print only the final summary and errors (no progress line or samples).")
  var quiet = false

  @Option(help: "Also write TensorBoard event files (losses, learning rate, gradient norm, tokens/s, samples) to this folder.")
  var tensorboard: String?

  /// Checks the flags alone (the option groups check theirs); the text and checkpoints are read once, by run().
  func validate() throws {
    if initFrom != nil, resume != nil { throw CLIError("--init and --resume cannot be used together") }
    try checkSize(embedding, "--embedding", most: NetworkLimits.embeddingSize)
    if let t = seqLen, !(1...1_000_000).contains(t) { throw CLIError("--seq-len must be in 1…1000000, got \(t)") }
    if let e = epochs, e < 1 { throw CLIError("--epochs must be at least 1, got \(e)") }
    if let v = validateEvery, v < 1 { throw CLIError("--validate-every must be at least 1, got \(v)") }
  }

  func run() throws {
    runOptions.applyThreads()
    let plan = try TrainPlan(self)
    try plan.train(files: RunFiles(checkpoint: URL(fileURLWithPath: checkpoint)), validateEvery: plan.validateEvery, quiet: quiet, tensorboard: tensorboard)
  }
}

/// Everything a training run needs, built (and checked) from the command's options.
struct TrainPlan {
  let network: RecurrentNetwork<Float>
  let vocabulary: Vocabulary
  let mode: TextMode
  /// The training and validation data.
  let data: LanguageModelData
  let options: TrainerOptions
  /// The checkpoint of the stopped run when resuming.
  let resumeFrom: Checkpoint<Float>?
  /// How the model was trained (command, data size and checksum), for the checkpoint's metadata.
  let provenance: [String: String]
  /// Whether the cosine schedule's length is still to be fitted to a time budget.
  let fitScheduleToTime: Bool
  /// Steps between validations and checkpoints (--validate-every, or the default's share of tokens).
  let validateEvery: Int
  /// What every rank of an MPI run must share (the command line and the text's digest); empty for one rank.
  let sharedSettings: [(name: String, value: String)]

  init(_ c: TrainCommand) throws {
    let d = RunDefaults.languageModel
    let givenCell = try c.model.givenCell
    let cell = givenCell ?? d.cell
    let seed = c.runOptions.seedValue
    // The starting checkpoint, if any, decides the vocabulary and (for --init) the model's shape.
    let start: LanguageModelCheckpoint? = try (c.resume ?? c.initFrom).map {
      try readLanguageModel(path: $0, option: c.resume != nil ? "--resume" : "--init")
    }

    // Vocabulary and mode.
    if let start, let v = c.vocabulary, v != start.vocabulary.kind {
      throw CLIError("--vocabulary \(v.rawValue) differs from the checkpoint's \(start.vocabulary.kind.rawValue) vocabulary")
    }
    // A plain text (16-bit ids once encoded) or a token file of `recur prepare` (mapped).
    let input = try TextInput(path: c.text, given: start?.vocabulary) { c.vocabulary ?? .characters }
    let vocabulary = input.vocabulary, tokens = input.tokens
    provenance = input.provenance
    self.vocabulary = vocabulary
    let savedMode = c.resume != nil ? start?.mode : nil
    let mode = c.mode ?? savedMode ?? .stream
    if let savedMode, mode != savedMode {
      throw CLIError("--mode \(mode.rawValue) differs from the stopped run's \(savedMode.rawValue) mode")
    }
    self.mode = mode

    // Data shape: a resumed run keeps the stopped run's B and T.
    let saved = c.resume != nil ? start : nil
    for (flag, given, stopped) in [("--batch-size", c.runOptions.batchSize, saved?.batchSize), ("--seq-len", c.seqLen, saved?.sequenceLength)] {
      if let given, let stopped, given != stopped {
        throw CLIError("\(flag) \(given) differs from the stopped run's \(stopped); resuming needs the same batches")
      }
    }
    let batchSize = c.runOptions.batchSize ?? saved?.batchSize ?? d.batchSize
    try Ranks.checkBatch(batchSize)
    sharedSettings = Ranks.communicator.size > 1 ? Ranks.sharedSettings(digests: [("--text", input.digest)]) : []
    let shape = try c.model.shape()
    let embeddingSize = c.embedding ?? d.embeddingSize ?? 0
    let sequenceLength: Int
    if mode == .stream {
      sequenceLength = c.seqLen ?? saved?.sequenceLength ?? d.sequenceLength ?? 1
      // A new model is checked before the text: a model too large is the first thing to say.
      if start == nil {
        try checkMemory(
          RecurrentNetwork<Float>.Configuration.languageModel(
            cell: cell, vocabularySize: vocabulary.count, embeddingSize: embeddingSize, hiddenSize: shape.hiddenSize,
            layers: shape.layers),
          batch: batchSize, steps: sequenceLength)
      }
    } else {
      let longest = try oneLine(c.text) { try LanguageModelData.longestPair(tokens: Array(tokens), vocabulary: vocabulary, mode: mode) }
      sequenceLength = c.seqLen ?? saved?.sequenceLength ?? longest ?? 1
    }
    do {
      // A rank of an MPI run reads only its own streams of the text.
      let ranks = Ranks.communicator
      data = try LanguageModelData(
        tokens: tokens, vocabulary: vocabulary, mode: mode, batchSize: batchSize, sequenceLength: sequenceLength,
        seed: seed,
        ownedStreams: ranks.size > 1 ? DataParallel.rows(batch: batchSize, rank: ranks.rank, ranks: ranks.size) : nil)
    } catch let error as LanguageModelDataError {
      throw CLIError("\(error); lower --batch-size or --seq-len")
    } catch {
      let message = String(describing: error).split(separator: "\n").joined(separator: " ")
      throw CLIError(mode == .stream ? message : "\(c.text): \(message)")
    }

    // The model.
    var network: RecurrentNetwork<Float>
    if let start {
      let have = start.checkpoint.network.configuration
      let option = c.resume != nil ? "--resume" : "--init"
      if givenCell != nil, cell != have.cell {
        throw CLIError("the \(option) checkpoint has cell \(have.cell) but --cell says \(cell)")
      }
      for (flag, given, actual) in [("--hidden", c.model.hidden, have.hiddenSize), ("--layers", c.model.layers, have.layers), ("--embedding", c.embedding, have.embeddingSize ?? 0)] {
        if let given, given != actual { throw CLIError("\(option) has \(flag.dropFirst(2)) \(actual) but \(flag) says \(given)") }
      }
      let dropout = c.model.plainDropout(default: have.dropout)
      let regularization = c.model.givesRegularization
        ? c.model.regularization(defaults: have.regularization) : have.regularization
      if c.resume != nil, dropout != have.dropout || regularization != have.regularization {
        throw CLIError("--resume trains as the stopped run did; its dropout and regularizers cannot change")
      }
      // --resume continues θ itself; --init starts from the weights a model is used with (θ̄ when averaged).
      network = c.resume != nil ? start.checkpoint.network : start.network
      if dropout != have.dropout || regularization != have.regularization {
        network = try oneLine("") { try network.withTrainingRegularization(dropout: dropout, regularization: regularization) }
      }
    } else {
      let configuration = RecurrentNetwork<Float>.Configuration.languageModel(
        cell: cell, vocabularySize: vocabulary.count, embeddingSize: embeddingSize, hiddenSize: shape.hiddenSize,
        layers: shape.layers, dropout: shape.dropout, regularization: shape.regularization)
      try checkMemory(configuration, batch: data.batchSize, steps: data.sequenceLength)
      network = try oneLine("") { try RecurrentNetwork<Float>(configuration, seed: seed) }
      // The initialization draws from its own generator (seed + 1), after the network's.
      if let initialization = shape.initialization {
        var generator = SeededGenerator(seed: seed &+ 1)
        try network.initialize(initialization, generator: &generator)
      }
    }
    try checkMemory(network.configuration, batch: data.batchSize, steps: data.sequenceLength)
    self.network = network

    // Optimizer, schedule, budget.
    let optimizer = try c.optimization.makeOptimizer()
    let r = c.runOptions
    var budget = TrainingBudget(steps: r.steps, epochs: c.epochs, seconds: r.time)
    if budget.steps == nil, budget.epochs == nil, budget.seconds == nil {
      budget.steps = d.defaultSteps
      budget.epochs = d.defaultEpochs
    }
    let perEpoch = data.training.batchesPerEpoch
    let validateEvery = c.validateEvery ?? d.validationInterval(tokensPerStep: data.batchSize * data.sequenceLength)
    self.validateEvery = validateEvery
    let plannedSteps = [budget.steps, budget.epochs.map { $0 * perEpoch }].compactMap { $0 }.min()
    let scheduleChoice = c.optimization.scheduleChoice
    let schedule = scheduleChoice.schedule(
      learningRate: optimizer.learningRate, warmup: c.optimization.warmupSteps, plannedSteps: plannedSteps,
      stepsPerEpoch: perEpoch)
    fitScheduleToTime = scheduleChoice == .cosine && budget.seconds != nil && c.resume == nil
    var options = TrainerOptions(
      optimizer: optimizer, schedule: schedule, clipping: c.optimization.clipping,
      loss: .crossEntropy, reduction: .meanOverSteps, budget: budget,
      validationInterval: data.validation == nil ? nil : validateEvery, checkpointInterval: validateEvery,
      divergenceFactor: 3, seed: seed, averaging: c.optimization.averaging)
    if let resume = c.resume, let start {
      guard var savedOptions = start.checkpoint.options, start.isResumable else {
        throw CLIError("--resume \(resume) holds a model but no run to resume; use --init to start from its weights")
      }
      // The budget may change (it does not change the trajectory); everything else is the stopped run's.
      if r.steps != nil || c.epochs != nil || r.time != nil { savedOptions.budget = budget }
      let o = c.optimization
      if o.average != nil || o.averageDecay != nil || o.averageStart != nil, o.averaging != savedOptions.averaging {
        throw CLIError("the stopped run averaged with \(AverageChoice.flags(savedOptions.averaging)); a resumed run keeps its averaging")
      }
      options = savedOptions
    }
    try oneLine("") { try options.validate() }
    self.options = options
    resumeFrom = c.resume != nil ? start?.checkpoint : nil
  }

  /// Runs the training: progress, samples at validation, metrics, plot, checkpoint, clean stop on Ctrl-C.
  func train(files: RunFiles, validateEvery: Int, quiet: Bool, tensorboard: String? = nil) throws {
    let checkpointURL = files.checkpoint, metricsURL = files.metrics, plotURL = files.lossPlot
    let progress = ProgressLine(plainEvery: max(1, min(validateEvery, 50)), quiet: quiet)

    var options = options
    if fitScheduleToTime, let seconds = options.budget.seconds {
      // Rank 0's estimate, so that every rank runs the same schedule.
      var estimate = [Ranks.isPrimary ? Double(try estimateSteps(seconds: seconds, validateEvery: validateEvery)) : 0]
      try Ranks.communicator.allreduceSum(&estimate)
      let total = Int(estimate[0])
      options.schedule = options.schedule.fitted(toSteps: total)
      progress.message("the cosine schedule decays over an estimated \(total) steps in \(duration(seconds))")
    }
    let trainer: Trainer<TextBatches<Float>>
    if let resumeFrom {
      trainer = try oneLine("--resume") { try Trainer(resuming: resumeFrom, data: data.training, options: options) }
    } else {
      trainer = try oneLine("") { try Trainer(network: network, data: data.training, options: options) }
    }
    trainer.metadata = LanguageModelCheckpoint.metadata(
      vocabulary: vocabulary, mode: mode, batchSize: data.batchSize, sequenceLength: data.sequenceLength,
      validationFraction: data.validationFraction)
    trainer.metadata.merge(provenance) { $1 }
    trainer.checkpointURL = checkpointURL
    trainer.metricsURL = metricsURL
    trainer.communicator = Ranks.communicator
    trainer.overlapsCommunication = Ranks.overlapsCommunication
    trainer.sharedSettings = sharedSettings
    let ranks = Ranks.communicator

    let c = trainer.network.configuration
    progress.message(
      "training a \(c.layers)-layer \(c.cell), H = \(c.hiddenSize), E = \(c.embeddingSize ?? 0), "
        + "V = \(vocabulary.count) (\(trainer.network.parameterCount) parameters) on \(data.training.batchesPerEpoch) "
        + "batches of \(data.batchSize) × \(data.sequenceLength) per epoch, \(mode.rawValue) mode"
        + (resumeFrom != nil ? ", resuming at step \(trainer.position.step)" : ""))

    let workspace = NetworkWorkspace<Float>()
    if data.validation != nil {
      trainer.validation = { [data] network in
        try data.validationLoss(network, workspace: workspace, communicator: ranks) ?? .nan
      }
    }
    let totalSteps = options.budget.steps
    trainer.onProgress = { [unowned trainer] p in
      progress.update(p, totalSteps: totalSteps)
      if p.report.validationLoss != nil {
        if !quiet, let sample = try? Self.sample(trainer.evaluationNetwork, vocabulary: vocabulary, mode: mode, length: 200) {
          progress.message("--- sample at step \(p.report.step) ---\n\(sample)\n---")
        }
        try? Self.plot(metrics: metricsURL, to: plotURL)
      }
    }
    let handler = trainer.stopFlag.handleInterrupts(terminate: Ranks.communicator.size > 1) {
      guard Ranks.isPrimary else { return }
      FileHandle.standardError.write(Data("\ninterrupted: saving the checkpoint after this step (Ctrl-C again to quit at once)\n".utf8))
    }
    defer { handler.cancel() }
    let board = !Ranks.isPrimary ? nil : try tensorboard.map { dir in try oneLine("--tensorboard") { try TensorBoardLog(directory: URL(fileURLWithPath: dir), options: options) } }
    board?.attach(to: trainer) { try? Self.sample($0, vocabulary: vocabulary, mode: mode, length: 200) }
    let outcome: TrainingOutcome
    do {
      outcome = try trainer.run()
    } catch {
      progress.finish()
      throw CLIError(String(describing: error))
    }
    progress.finish()
    try oneLine("--tensorboard") { try board?.finish() }
    if Ranks.isPrimary { try? Self.plot(metrics: metricsURL, to: plotURL) }
    let reasons: [StopReason: String] = [
      .stepBudget: "step budget reached", .epochBudget: "epoch budget reached", .timeBudget: "time budget reached",
      .earlyStopping: "validation stopped improving", .interrupted: "interrupted",
    ]
    var summary = "stopped after \(outcome.step) steps (\(reasons[outcome.reason] ?? outcome.reason.rawValue))"
    if let v = outcome.lastValidationLoss { summary += String(format: "; validation loss %.4f nats/char", v) }
    if let b = outcome.bestValidationLoss { summary += String(format: " (best %.4f)", b) }
    progress.summary(summary)
    progress.summary("checkpoint: \(checkpointURL.path)\nmetrics:    \(metricsURL.path)\nloss plot:  \(plotURL.path)")
  }

  /// Times a few steps on copies and estimates how many steps (with their validations) fit in `seconds`.
  func estimateSteps(seconds: Double, validateEvery: Int) throws -> Int {
    let perStep = try StepTiming.measureSecondsPerStep(network: network, data: data.training, options: options)
    let validationSeconds = StepTiming.forwardOnlySeconds(batches: data.validationBatches, secondsPerStep: perStep)
    return StepTiming(secondsPerStep: perStep, validationSeconds: validationSeconds)
      .steps(in: seconds, validationInterval: validateEvery)
  }

  /// A short sample of a network (temperature 0.8) for the progress display.
  static func sample(
    _ network: RecurrentNetwork<Float>, vocabulary: Vocabulary, mode: TextMode, length: Int
  ) throws -> String {
    let generator = try TextSampler(network: network)
    var rng = SeededGenerator(seed: 42)
    var bytes: [UInt8] = []
    try generator.generateText(
      vocabulary: vocabulary, mode: mode, length: length, options: SamplingOptions(temperature: 0.8), using: &rng
    ) { bytes += $0 }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Draws the training and validation loss of a run from its metrics file.
  static func plot(metrics: URL, to url: URL) throws {
    try LinePlot.trainingCurves(try MetricsRecord.read(contentsOf: metrics)).write(to: url)
  }
}

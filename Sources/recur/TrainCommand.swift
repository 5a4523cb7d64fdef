import ArgumentParser
import Foundation
import Recur

/// `recur train --text FILE`: trains a character (or byte) language model on a text file.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a character language model on a text file.",
    discussion: """
      The first 90% of the text trains and the last 10% validates. The defaults (a 2-layer LSTM, H = 512, \
      E = 64, dropout 0.1, 32 streams of 64 characters, Adam 3e-3 with warm-up and a cosine decay to 1/10, \
      global-norm clipping at 5) train a good model without tuning. The checkpoint, its metrics (JSON Lines) \
      and a plot of the training and validation loss (SVG) are written side by side. Ctrl-C stops after the \
      current step and saves; --resume continues a stopped run exactly.
      """
  )

  // MARK: Data

  @Option(help: "The text to train on (UTF-8 for the characters vocabulary, any file for bytes).")
  var text: String

  @Option(help: "How the text becomes training pairs: stream (B contiguous streams, truncated BPTT), lines or documents (the chapter's <start> … <end> pairs).")
  var mode: String?

  @Option(help: "characters (Unicode scalars) or bytes.")
  var vocabulary: String?

  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "B, the streams (or sequences) per step (default 32).")
  var batchSize: Int?

  @Option(name: .customLong("seq-len"), parsing: .unconditional, help: "T, the steps per chunk in stream mode (default 64); the longest sequence in lines/documents mode (default: the longest in the text).")
  var seqLen: Int?

  // MARK: Model

  @Option(help: "The cell: lstm, gru, rnn (tanh), rnn_relu, gated (the chapter's gated RNN).")
  var model: String?

  @Option(parsing: .unconditional, help: "H, the state size of each layer (default 512).")
  var hidden: Int?

  @Option(parsing: .unconditional, help: "L, the number of layers (default 2).")
  var layers: Int?

  @Option(parsing: .unconditional, help: "E, the embedding size (default 64).")
  var embedding: Int?

  @Option(help: "Dropout on the embedding and between layers while training (default 0.1).")
  var dropout: Double?

  // MARK: Optimizer

  @Option(help: "adam, adamw, sgd, rmsprop or adagrad.")
  var optimizer = "adam"

  @Option(parsing: .unconditional, help: "The base learning rate (default 3e-3 for adam, adamw and rmsprop; 0.1 for sgd and adagrad).")
  var lr: Double?

  @Option(help: "Clip the gradient's global norm to this value (0: no clipping).")
  var clip = 5.0

  @Option(help: "constant, step (×0.97 each epoch after the 10th, as char-rnn) or cosine (to lr/10 at the end of the budget).")
  var schedule = "cosine"

  @Option(help: "Linear warm-up steps of the cosine schedule.")
  var warmup = 100

  // MARK: Budget and files

  @Option(parsing: .unconditional, help: "Stop after this many steps in all.")
  var steps: Int?

  @Option(help: "Stop after this many passes over the training text.")
  var epochs: Int?

  @Option(help: "Stop after this many seconds (the cosine schedule fits its decay to the time).")
  var time: Double?

  @Option(name: .customLong("validate-every"), help: "Compute the validation loss (and print a sample) every this many steps.")
  var validateEvery = 250

  @Option(help: "The checkpoint to write; metrics (.metrics.jsonl) and the loss plot (.loss.svg) go beside it.")
  var checkpoint = "model.safetensors"

  @Option(name: .customLong("init"), help: "Start a new run from this checkpoint's weights and vocabulary (Recur's or PyTorch's).")
  var initFrom: String?

  @Option(help: "Continue a stopped run from its checkpoint, exactly as if it had never stopped.")
  var resume: String?

  @Option(help: "Seed of the initialization, dropout and sample order.")
  var seed: UInt64 = 1

  @Option(help: "Threads for the matrix products (default: all processors).")
  var threads: Int?

  @Flag(help: "Print only the final summary and errors (no progress line or samples).")
  var quiet = false

  mutating func validate() throws {
    _ = try TrainPlan(self)
  }

  func run() throws {
    if let threads { Compute.threadCount = threads }
    let plan = try TrainPlan(self)
    try plan.train(checkpointPath: checkpoint, validateEvery: validateEvery, quiet: quiet)
  }
}

/// Everything a training run needs, built (and checked) from the command's options.
struct TrainPlan {
  let network: RecurrentNetwork<Float>
  let vocabulary: Vocabulary
  let mode: TextMode
  let data: TextBatches<Float>
  let validation: Validation?
  let options: TrainerOptions
  /// The checkpoint of the stopped run when resuming.
  let resumeFrom: Checkpoint<Float>?
  let batchSize: Int, sequenceLength: Int
  let validationFraction = 0.1
  /// Whether the cosine schedule's length is still to be fitted to a time budget.
  let fitScheduleToTime: Bool
  /// What every rank of an MPI run must share (the command line and the text's digest); empty for one rank.
  let sharedSettings: [(name: String, value: String)]

  /// How validation is computed.
  enum Validation {
    /// One-stream-per-B evaluation of the held-out tokens.
    case stream(tokens: TokenSequence, streams: Int)
    /// The mean loss of the held-out lines' pairs.
    case sequences([SequenceBatch<Float>])
  }

  init(_ c: TrainCommand) throws {
    if let t = c.threads, !(1...1024).contains(t) { throw CLIError("--threads must be in 1…1024, got \(t)") }
    if c.initFrom != nil, c.resume != nil { throw CLIError("--init and --resume cannot be used together") }
    // Flags first: they need no file.
    let cellName = c.model ?? "lstm"
    guard let cell = CellKind(cellName) else {
      throw CLIError("--model must be lstm, gru, rnn, rnn_relu or gated, got '\(cellName)'")
    }
    for (flag, value) in [("--hidden", c.hidden), ("--layers", c.layers), ("--embedding", c.embedding)] {
      if let value, value < 1 { throw CLIError("\(flag) must be at least 1, got \(value)") }
    }
    if let h = c.hidden, h > 16384 { throw CLIError("--hidden \(h) is absurdly large (the most is 16384)") }
    if let l = c.layers, l > 64 { throw CLIError("--layers \(l) is too many (the most is 64)") }
    if let e = c.embedding, e > 16384 { throw CLIError("--embedding \(e) is absurdly large (the most is 16384)") }
    if let d = c.dropout, !(d.isFinite && d >= 0 && d < 1) { throw CLIError("--dropout must be in [0, 1), got \(d)") }
    if let lr = c.lr, !(lr.isFinite && lr > 0) { throw CLIError("--lr must be a positive number, got \(lr)") }
    guard c.clip.isFinite, c.clip >= 0 else { throw CLIError("--clip must be 0 or positive, got \(c.clip)") }
    if let s = c.steps, s < 1 { throw CLIError("--steps must be at least 1, got \(s)") }
    if let e = c.epochs, e < 1 { throw CLIError("--epochs must be at least 1, got \(e)") }
    if let t = c.time, !(t.isFinite && t > 0) { throw CLIError("--time must be a positive number of seconds") }
    guard c.validateEvery >= 1 else { throw CLIError("--validate-every must be at least 1") }
    guard c.warmup >= 0 else { throw CLIError("--warmup must be 0 or more") }
    // The starting checkpoint, if any, decides the vocabulary and (for --init) the model's shape.
    let start: LanguageModelFile? = try (c.resume ?? c.initFrom).map {
      try LanguageModelFile(path: $0, option: c.resume != nil ? "--resume" : "--init")
    }
    let saved = start?.checkpoint.metadata ?? [:]

    // Vocabulary and mode.
    if let start, let v = c.vocabulary, v != start.vocabulary.kind.rawValue {
      throw CLIError("--vocabulary \(v) differs from the checkpoint's \(start.vocabulary.kind.rawValue) vocabulary")
    }
    // A plain text (16-bit ids once encoded) or a token file of `recur prepare` (mapped).
    let input = try TextInput(path: c.text, given: start?.vocabulary) {
      guard let kind = Vocabulary.Kind(rawValue: c.vocabulary ?? "characters") else {
        throw CLIError("--vocabulary must be characters or bytes, got '\(c.vocabulary ?? "")'")
      }
      return kind
    }
    let vocabulary = input.vocabulary, tokens = input.tokens
    self.vocabulary = vocabulary
    let savedMode = c.resume != nil ? start.flatMap { $0.mode } : nil
    guard let mode = TextMode(rawValue: c.mode ?? savedMode?.rawValue ?? "stream") else {
      throw CLIError("--mode must be stream, lines or documents, got '\(c.mode ?? "")'")
    }
    if let savedMode, mode != savedMode {
      throw CLIError("--mode \(mode.rawValue) differs from the stopped run's \(savedMode.rawValue) mode")
    }
    self.mode = mode

    // Data shape.
    func savedInt(_ key: String) -> Int? { c.resume != nil ? saved[key].flatMap { Int($0) } : nil }
    for (flag, given, key) in [("--batch-size", c.batchSize, TextMetadata.batchSize), ("--seq-len", c.seqLen, TextMetadata.sequenceLength)] {
      if let given, let s = savedInt(key), given != s {
        throw CLIError("\(flag) \(given) differs from the stopped run's \(s); resuming needs the same batches")
      }
    }
    let batchSize = c.batchSize ?? savedInt(TextMetadata.batchSize) ?? 32
    guard (1...100_000).contains(batchSize) else { throw CLIError("--batch-size must be in 1…100000, got \(batchSize)") }
    try Ranks.checkBatch(batchSize)
    sharedSettings = Ranks.communicator.size > 1 ? Ranks.sharedSettings(digests: [("--text", input.digest)]) : []
    if let t = c.seqLen, !(1...1_000_000).contains(t) { throw CLIError("--seq-len must be in 1…1000000, got \(t)") }
    self.batchSize = batchSize

    let cut = tokens.count - Int((Double(tokens.count) * validationFraction).rounded(.down))
    let training = tokens.slice(0..<cut), held = tokens.slice(cut..<tokens.count)
    switch mode {
    case .stream:
      let T = c.seqLen ?? savedInt(TextMetadata.sequenceLength) ?? 64
      guard T >= 1 else { throw CLIError("--seq-len must be at least 1") }
      if start == nil {
        try Self.checkMemory(
          .languageModel(
            cell: cell, vocabularySize: vocabulary.count, embeddingSize: c.embedding ?? 64,
            hiddenSize: c.hidden ?? 512, layers: c.layers ?? 2),
          batch: batchSize, steps: T)
      }
      guard training.count >= batchSize * T + 1 else {
        throw CLIError(
          "the text is too short: the training part (first 90%) has \(training.count) characters, "
            + "\(batchSize) streams × \(T) steps need \(batchSize * T + 1); lower --batch-size or --seq-len")
      }
      sequenceLength = T
      var streams = try oneLine("") { try StreamBatches(tokens: training, batchSize: batchSize, steps: T) }
      // A rank of an MPI run reads only its own streams of the text.
      if Ranks.communicator.size > 1 {
        streams.ownedStreams = DataParallel.rows(
          batch: batchSize, rank: Ranks.communicator.rank, ranks: Ranks.communicator.size)
      }
      data = TextBatches(.stream(streams))
      validation = held.count >= 2 ? .stream(tokens: held, streams: min(batchSize, held.count - 1)) : nil
    case .lines, .documents:
      let segmentation = mode.segmentation!
      let all = try oneLine(c.text) {
        try SequenceBatches(
          tokens: Array(tokens), vocabulary: vocabulary, segmentation: segmentation, batchSize: 1, maxSteps: Int.max / 2)
      }
      let longest = all.sequences.map(\.count).max() ?? 0
      let T = c.seqLen ?? savedInt(TextMetadata.sequenceLength) ?? (longest + 1)
      sequenceLength = T
      let sequences = try oneLine(c.text) {
        try SequenceBatches(
          tokens: Array(training), vocabulary: vocabulary, segmentation: segmentation, batchSize: batchSize, maxSteps: T,
          bucketByLength: true, seed: c.seed)
      }
      data = TextBatches(.sequences(sequences))
      if let heldOut = try? SequenceBatches(
        tokens: Array(held), vocabulary: vocabulary, segmentation: segmentation, batchSize: batchSize, maxSteps: T)
      {
        validation = .sequences(
          stride(from: 0, to: heldOut.sequences.count, by: batchSize).map {
            heldOut.batch(of: Array($0..<min($0 + batchSize, heldOut.sequences.count)))
          })
      } else {
        validation = nil
      }
    }

    // The model.
    var network: RecurrentNetwork<Float>
    if let start {
      let have = start.checkpoint.network.configuration
      let option = c.resume != nil ? "--resume" : "--init"
      if c.model != nil, cell != have.cell {
        throw CLIError("the \(option) checkpoint has cell \(have.cell) but --model says \(cell)")
      }
      for (flag, given, actual) in [("--hidden", c.hidden, have.hiddenSize), ("--layers", c.layers, have.layers), ("--embedding", c.embedding, have.embeddingSize ?? 0)] {
        if let given, given != actual { throw CLIError("\(option) has \(flag.dropFirst(2)) \(actual) but \(flag) says \(given)") }
      }
      if c.resume != nil, let d = c.dropout, d != have.dropout {
        throw CLIError("--dropout \(d) differs from the stopped run's \(have.dropout)")
      }
      network = start.checkpoint.network
      if let d = c.dropout, d != have.dropout { network = try network.withDropout(d) }
    } else {
      let configuration = RecurrentNetwork<Float>.Configuration.languageModel(
        cell: cell, vocabularySize: vocabulary.count, embeddingSize: c.embedding ?? 64, hiddenSize: c.hidden ?? 512,
        layers: c.layers ?? 2, dropout: c.dropout ?? 0.1)
      try Self.checkMemory(configuration, batch: batchSize, steps: sequenceLength)
      network = try oneLine("") { try RecurrentNetwork<Float>(configuration, seed: c.seed) }
      if cell == .lstm {
        var generator = SeededGenerator(seed: c.seed &+ 1)
        try network.initialize(Initialization(forgetGateBias: 1), generator: &generator)
      }
    }
    try Self.checkMemory(network.configuration, batch: batchSize, steps: sequenceLength)
    self.network = network

    // Optimizer, schedule, budget.
    let optimizer: Optimizer
    switch c.optimizer {
    case "adam": optimizer = .adam(learningRate: c.lr ?? 3e-3)
    case "adamw": optimizer = .adamW(learningRate: c.lr ?? 3e-3)
    case "sgd": optimizer = .sgd(learningRate: c.lr ?? 0.1)
    case "rmsprop": optimizer = .rmsprop(learningRate: c.lr ?? 3e-3, alpha: 0.95)
    case "adagrad": optimizer = .adagrad(learningRate: c.lr ?? 0.1)
    default: throw CLIError("--optimizer must be adam, adamw, sgd, rmsprop or adagrad, got '\(c.optimizer)'")
    }
    var budget = TrainingBudget(steps: c.steps, epochs: c.epochs, seconds: c.time)
    if budget.steps == nil, budget.epochs == nil, budget.seconds == nil { budget.epochs = 10 }
    let perEpoch = data.batchesPerEpoch
    let plannedSteps = [budget.steps, budget.epochs.map { $0 * perEpoch }].compactMap { $0 }.min()
    let schedule: LearningRateSchedule
    switch c.schedule {
    case "constant": schedule = .constant
    case "step": schedule = .stepDecay(factor: 0.97, everyEpochs: 1, afterEpoch: 10, stepsPerEpoch: perEpoch)
    case "cosine":
      let total = max(plannedSteps ?? 1, c.warmup)
      schedule = .cosine(warmup: min(c.warmup, total), total: total, minimum: optimizer.learningRate / 10)
    default: throw CLIError("--schedule must be constant, step or cosine, got '\(c.schedule)'")
    }
    fitScheduleToTime = c.schedule == "cosine" && budget.seconds != nil && c.resume == nil
    var options = TrainerOptions(
      optimizer: optimizer, schedule: schedule, clipping: c.clip > 0 ? .globalNorm(c.clip) : .none,
      loss: .crossEntropy, reduction: .meanOverSteps, budget: budget,
      validationInterval: validation == nil ? nil : c.validateEvery, checkpointInterval: c.validateEvery,
      divergenceFactor: 3, seed: c.seed)
    if c.resume != nil, let start {
      guard var savedOptions = start.checkpoint.options, start.checkpoint.position != nil else {
        throw CLIError("--resume \(c.resume!) holds a model but no run to resume; use --init to start from its weights")
      }
      // The budget may change (it does not change the trajectory); everything else is the stopped run's.
      if c.steps != nil || c.epochs != nil || c.time != nil { savedOptions.budget = budget }
      options = savedOptions
    }
    try oneLine("") { try options.validate() }
    self.options = options
    resumeFrom = c.resume != nil ? start?.checkpoint : nil
  }

  /// Refuses a model whose training would not fit in this machine's memory, with the estimate.
  static func checkMemory(
    _ configuration: RecurrentNetwork<Float>.Configuration, batch: Int, steps: Int,
    advice: String = "lower --hidden, --layers, --batch-size or --seq-len"
  ) throws {
    let bytes = trainingMemoryEstimate(configuration, batch: batch, steps: steps)
    let physical = Double(ProcessInfo.processInfo.physicalMemory)
    if bytes > 0.8 * physical {
      throw CLIError(
        String(
          format: "training this model needs about %.1f GB of memory, more than this machine's %.1f GB allows; %@",
          bytes / 1e9, physical / 1e9, advice))
    }
  }

  /// Bytes a training run holds: parameters with their gradient and two optimizer buffers, and per step the
  /// caches of every layer (projections, states, gate caches and their gradients) and of the head. For
  /// language models and for the vector models of `recur fit`.
  static func trainingMemoryEstimate(
    _ c: RecurrentNetwork<Float>.Configuration, batch: Int, steps: Int
  ) -> Double {
    // I inputs (a vocabulary of I tokens when embedded in E), V outputs.
    let H = Double(c.hiddenSize), I = Double(c.inputSize), V = Double(c.outputSize)
    let E = Double(c.embeddingSize ?? c.inputSize), embedding = c.embeddingSize == nil ? 0 : I * E
    let L = Double(c.layers), G = Double(c.cell.gateCount), W = Double(c.cell.cacheWidth)
    let parameters = embedding + G * H * (E + H + 2) + (L - 1) * G * H * (2 * H + 2) + V * (H + 1)
    let rows = Double(batch) * Double(steps)
    let perLayer = rows * H * (3 * G + W + 4)
    let head = rows * (3 * V + 3 * E)
    return 4 * (4 * parameters + L * perLayer + head)
  }

  /// Runs the training: progress, samples at validation, metrics, plot, checkpoint, clean stop on Ctrl-C.
  func train(checkpointPath: String, validateEvery: Int, quiet: Bool) throws {
    let checkpointURL = URL(fileURLWithPath: checkpointPath)
    let base = checkpointURL.deletingPathExtension()
    let metricsURL = URL(fileURLWithPath: base.path + ".metrics.jsonl")
    let plotURL = URL(fileURLWithPath: base.path + ".loss.svg")
    let progress = ProgressLine(plainEvery: max(1, min(validateEvery, 50)), quiet: quiet)

    var options = options
    if fitScheduleToTime, let seconds = options.budget.seconds, case .cosine(let warmup, _, let minimum) = options.schedule {
      // Rank 0's estimate, so that every rank runs the same schedule.
      var estimate = [Ranks.isPrimary ? Double(try estimateSteps(seconds: seconds, validateEvery: validateEvery)) : 0]
      try Ranks.communicator.allreduceSum(&estimate)
      let total = Int(estimate[0])
      options.schedule = .cosine(warmup: min(warmup, total), total: total, minimum: minimum)
      progress.message("the cosine schedule decays over an estimated \(total) steps in \(duration(seconds))")
    }
    let trainer: Trainer<TextBatches<Float>>
    if let resumeFrom {
      trainer = try oneLine("--resume") { try Trainer(resuming: resumeFrom, data: data, options: options) }
    } else {
      trainer = try oneLine("") { try Trainer(network: network, data: data, options: options) }
    }
    var metadata = vocabulary.metadata
    metadata[TextMetadata.mode] = mode.rawValue
    metadata[TextMetadata.batchSize] = String(batchSize)
    metadata[TextMetadata.sequenceLength] = String(sequenceLength)
    metadata[TextMetadata.validationFraction] = "\(validationFraction)"
    trainer.metadata = metadata
    trainer.checkpointURL = checkpointURL
    trainer.metricsURL = metricsURL
    trainer.communicator = Ranks.communicator
    trainer.sharedSettings = sharedSettings
    let ranks = Ranks.communicator

    let c = trainer.network.configuration
    progress.message(
      "training a \(c.layers)-layer \(c.cell), H = \(c.hiddenSize), E = \(c.embeddingSize ?? 0), "
        + "V = \(vocabulary.count) (\(trainer.network.parameterCount) parameters) on \(data.batchesPerEpoch) "
        + "batches of \(batchSize) × \(sequenceLength) per epoch, \(mode.rawValue) mode"
        + (resumeFrom != nil ? ", resuming at step \(trainer.position.step)" : ""))

    let workspace = NetworkWorkspace<Float>()
    if let validation {
      trainer.validation = { network in
        switch validation {
        case .stream(let tokens, let streams):
          return try network.evaluateLanguageModel(
            on: tokens, streams: streams, chunkLength: 128, workspace: workspace, communicator: ranks
          ).natsPerToken
        case .sequences(let batches):
          return try network.meanLoss(over: batches, loss: .crossEntropy, workspace: workspace, communicator: ranks)
        }
      }
    }
    let totalSteps = options.budget.steps
    trainer.onProgress = { [unowned trainer] p in
      progress.update(p, totalSteps: totalSteps)
      if p.report.validationLoss != nil {
        if !quiet, let sample = try? Self.sample(trainer.network, vocabulary: vocabulary, mode: mode, length: 200) {
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
    let outcome: TrainingOutcome
    do {
      outcome = try trainer.run()
    } catch {
      progress.finish()
      throw CLIError(String(describing: error))
    }
    progress.finish()
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

  /// Times a few steps and one validation on copies, and estimates how many steps fit in `seconds`.
  func estimateSteps(seconds: Double, validateEvery: Int) throws -> Int {
    var probeOptions = options
    probeOptions.budget = TrainingBudget(steps: 8)
    let probe = try Trainer(network: network, data: data, options: probeOptions)
    // Two steps to allocate the workspaces, then the median of six timed steps (robust to a busy moment).
    for _ in 0..<2 { try probe.step() }
    var times: [Double] = []
    for _ in 0..<6 {
      let start = DispatchTime.now().uptimeNanoseconds
      try probe.step()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let perStep = times.sorted()[3]
    var validationSeconds = 0.0
    if case .stream(let tokens, _) = validation {
      // Forward only over the held-out tokens: about a third of a training step per B·T tokens.
      validationSeconds = Double(tokens.count) / Double(batchSize * sequenceLength) * perStep / 3
    } else if case .sequences(let batches) = validation {
      validationSeconds = Double(batches.count) * perStep / 3
    }
    let effective = perStep + validationSeconds / Double(validateEvery)
    return max(1, Int(seconds / effective))
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

  /// Draws the training loss (mean per 10 steps) and the validation loss from a metrics file.
  static func plot(metrics: URL, to url: URL) throws {
    let text = try String(contentsOf: metrics, encoding: .utf8)
    var steps: [Double] = [], losses: [Double] = [], valSteps: [Double] = [], valLosses: [Double] = []
    for line in text.split(separator: "\n") {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let step = object["step"] as? Double ?? (object["step"] as? Int).map(Double.init)
      else { continue }
      if let loss = object["loss"] as? Double {
        steps.append(step)
        losses.append(loss)
      }
      if let v = object["val_loss"] as? Double {
        valSteps.append(step)
        valLosses.append(v)
      }
    }
    let window = max(1, steps.count / 500)
    var meanSteps: [Double] = [], meanLosses: [Double] = []
    for i in stride(from: 0, to: steps.count, by: window) {
      let j = min(i + window, steps.count)
      meanSteps.append(steps[j - 1])
      meanLosses.append(losses[i..<j].reduce(0, +) / Double(j - i))
    }
    try LinePlot(
      title: "Training and validation loss", xLabel: "step", yLabel: "cross-entropy (nats/char)",
      series: [
        .init(name: "training (mean of \(window) step\(window == 1 ? "" : "s"))", x: meanSteps, y: meanLosses),
        .init(name: "validation", x: valSteps, y: valLosses),
      ]
    ).write(to: url)
  }
}

extension RecurrentNetwork {
  /// The same network with another dropout probability (same weights).
  func withDropout(_ dropout: Double) throws -> RecurrentNetwork {
    var configuration = self.configuration
    configuration.dropout = dropout
    var copy = try RecurrentNetwork(configuration, seed: 0)
    let source = namedParameters
    var index = 0
    copy.updateEachParameter { _, tensor in
      tensor = source[index].tensor
      index += 1
    }
    return copy
  }
}

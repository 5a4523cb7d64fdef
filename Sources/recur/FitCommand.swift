import ArgumentParser
import Foundation
import Recur
import RecurExport

/// `recur fit --data FILE`: trains a transducer on your own sequence pairs (JSON Lines or CSV).
struct FitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit",
    abstract: "Train a recurrent network on your own (x, y) sequence pairs.",
    discussion: """
      JSON Lines (one pair per line): {"x": [[0.1, 2], [0.3, 1]], "y": [[1.0], [0.5]]} for real targets \
      (squared error), {"x": [...], "y": [2, 0]} for class labels (cross-entropy), {"x": [...], "y": [1, -1]} \
      for the chapter's sequence classification (y_t = 1 if x_1 … x_t is a positive example, else −1; sigmoid \
      cross-entropy). A step of x may be a single number. Pairs of one line have equal lengths; lengths may \
      differ between lines.
      CSV (file name ending in .csv): a header sequence,step,x1,…,xI,y1,…,yV (or …,label), one row per step, \
      the rows of a sequence together and in step order.
      One target per sequence (classifying or scoring whole sequences): {"x": [[…], …], "y": 3} or \
      {"x": [[…], …], "y": [0.2, 1.5]}; in CSV the target filled on a sequence's first row only. The output is \
      read off the last step (--readout last, the chapter's reading) or pooled over the steps (mean, max); \
      --class-weights balanced (or w0,w1,…) weights the loss by class. --target-per says which layout a file \
      has when the lengths cannot (a list of as many numbers as steps is one label per step by default). \
      --bidirectional reads every sequence in both directions, as PyTorch's bidirectional=True.
      The last --validation fraction of the sequences is held out and reported. The model is written to \
      --checkpoint for recur predict, its per-step metrics (JSON Lines) beside it.
      """
  )

  @Option(help: "The training data: a .jsonl (JSON Lines) or .csv file.")
  var data: String

  @Option(help: "The targets: values, classes or binary (inferred from the file when left out).")
  var targets: SequenceDataset.TargetKind?

  @Option(help: "One target per step or per sequence (inferred from the file when left out).")
  var targetPer: SequenceDataset.TargetLayout?

  @Option(help: "One target per sequence: read the output off the last step, or pool the steps (last, mean, max).")
  var readout: SequenceReadout = .last

  @Option(help: "One target per sequence, class labels: loss weights per class, 'balanced' or w0,w1,… (one per class).")
  var classWeights: String?

  @OptionGroup(title: "Model")
  var model: ModelOptions<SequenceModelDefaults>

  @Flag(help: "Read every sequence in both directions (PyTorch's bidirectional=True): outputs [forward, reverse].")
  var bidirectional = false

  @OptionGroup(title: "Optimization")
  var optimization: OptimizationOptions<SequenceModelDefaults>

  @OptionGroup(title: "Run")
  var runOptions: RunOptions<SequenceModelDefaults>

  @Option(help: "Stop after this many passes over the training sequences.")
  var epochs: Int?

  @Option(help: "The fraction of sequences held out for validation (taken from the end of the file).")
  var validation = 0.1

  @Option(help: "Where to write the trained model.")
  var checkpoint = "model.safetensors"

  @Option(help: "Write the training and validation loss curves to this SVG file.")
  var plot: String?

  @OptionGroup(title: "Metrics")
  var metricsOutput: MetricsOutputOptions

  @Option(help: "Also write TensorBoard event files (losses, learning rate, gradient norm, steps/s) to this folder.")
  var tensorboard: String?

  func validate() throws {
    guard validation >= 0, validation < 1 else { throw CLIError("--validation must be in [0, 1), got \(validation)") }
    if let epochs, epochs < 1 { throw CLIError("--epochs must be at least 1, got \(epochs)") }
    if optimization.scheduleChoice == .cosine, runOptions.steps == nil, epochs == nil, runOptions.time != nil {
      throw CLIError("--schedule cosine needs --steps or --epochs to know where the decay ends")
    }
    _ = try parsedClassWeights()
  }

  /// `--class-weights` as the library reads it.
  func parsedClassWeights() throws -> ClassWeights? {
    guard let classWeights else { return nil }
    if classWeights == "balanced" { return .balanced }
    let parts = classWeights.split(separator: ",", omittingEmptySubsequences: false)
    let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard values.count == parts.count, !values.isEmpty, values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
      throw CLIError("--class-weights must be 'balanced' or numbers ≥ 0 separated by commas, got '\(classWeights)'")
    }
    return .given(values)
  }

  func run() throws {
    runOptions.applyThreads()
    let dataset = try SequenceDataset.load(contentsOf: URL(fileURLWithPath: data), kind: targets, layout: targetPer)
    let q = dataset.inputs.count
    let (trainIndices, validIndices) = dataset.validationSplit(fraction: validation)
    print(
      "\(q) sequences (\(trainIndices.count) training, \(validIndices.count) validation), I = \(dataset.featureCount), "
        + "targets: \(dataset.kind.rawValue) (\(dataset.outputSize) output\(dataset.outputSize == 1 ? "" : "s")) per \(dataset.layout.rawValue)"
        + (dataset.layout == .sequence ? " (readout: \(readout.rawValue))" : "") + ", loss \(dataset.loss.rawValue)")
    var weights: [Double]? = nil
    if let given = try parsedClassWeights() {
      guard dataset.layout == .sequence, dataset.kind != .values else {
        throw CLIError("--class-weights applies to one class label per sequence; this file has \(dataset.kind.rawValue) targets per \(dataset.layout.rawValue)")
      }
      let K = dataset.kind == .binary ? 2 : dataset.outputSize
      weights = try oneLine("--class-weights") {
        try given.weights(labels: trainIndices.map { Int(dataset.targets[$0][0][0]) }, classCount: K)
      }
      print("class weights: " + weights!.map { String(format: "%.4g", $0) }.joined(separator: ", "))
    }
    var shape = try model.shape()
    shape.bidirectional = bidirectional
    let seed = runOptions.seedValue, batchSize = runOptions.batch
    try checkMemory(
      shape.configuration(
        inputSize: dataset.featureCount, outputSize: dataset.outputSize, outputActivation: dataset.outputActivation),
      batch: min(batchSize, max(trainIndices.count, 1)), steps: dataset.inputs.map(\.count).max() ?? 1,
      advice: "lower --hidden, --layers or --batch-size (the model has \(dataset.outputSize) outputs)")
    let network = try shape.makeNetwork(
      inputSize: dataset.featureCount, outputSize: dataset.outputSize, outputActivation: dataset.outputActivation,
      seed: seed)
    let source = try SequencePairs<Float>(dataset, indices: trainIndices, batchSize: batchSize, seed: seed)
    let steps = runOptions.steps ?? (epochs == nil && runOptions.time == nil ? RunDefaults.sequenceModel.defaultSteps : nil)
    let optimizer = try optimization.makeOptimizer()
    let plannedSteps = [steps, epochs.map { $0 * source.batchesPerEpoch }].compactMap { $0 }.min()
    var options = TrainerOptions(
      optimizer: optimizer,
      schedule: optimization.scheduleChoice.schedule(
        learningRate: optimizer.learningRate, warmup: optimization.warmupSteps, plannedSteps: plannedSteps,
        stepsPerEpoch: source.batchesPerEpoch),
      clipping: optimization.clipping, loss: dataset.loss, reduction: .meanOverSequences,
      budget: TrainingBudget(steps: steps, epochs: epochs, seconds: runOptions.time),
      validationInterval: validIndices.isEmpty ? nil : max(1, source.batchesPerEpoch), divergenceFactor: nil,
      seed: seed, averaging: optimization.averaging)
    if dataset.layout == .sequence {
      options.readout = readout
      options.classWeights = weights
    }
    try Ranks.checkBatch(batchSize)
    let trainer = try Trainer(network: network, data: source, options: options)
    trainer.communicator = Ranks.communicator
    trainer.overlapsCommunication = Ranks.overlapsCommunication
    if Ranks.communicator.size > 1 {
      trainer.sharedSettings = Ranks.sharedSettings(files: [("--data", [UInt8](try Data(contentsOf: URL(fileURLWithPath: data))))])
    }
    trainer.checkpointURL = URL(fileURLWithPath: checkpoint)
    trainer.metricsURL = URL(fileURLWithPath: URL(fileURLWithPath: checkpoint).deletingPathExtension().path + ".metrics.jsonl")
    trainer.metadata = ["data.targets": dataset.kind.rawValue, "data.layout": dataset.layout.rawValue]
    if let bytes = try? [UInt8](AtomicFile.read(from: URL(fileURLWithPath: data))) {
      trainer.metadata.merge(ModelFolder.Provenance.metadata(path: data, data: bytes)) { $1 }
    }
    if dataset.layout == .sequence { trainer.metadata["data.readout"] = readout.rawValue }
    if !validIndices.isEmpty {
      trainer.validation = { try dataset.meanLoss(of: $0, indices: validIndices, readout: readout) }
    }
    var losses: [Double] = [], validationCurve: [(Double, Double)] = []
    var lastPrint = 0.0
    trainer.onProgress = { progress in
      losses.append(progress.report.loss)
      if let v = progress.report.validationLoss { validationCurve.append((Double(progress.report.step), v)) }
      if progress.elapsed - lastPrint >= 1 || progress.report.validationLoss != nil && progress.report.step % 50 == 0 {
        lastPrint = progress.elapsed
        var line = String(format: "  step %6d  epoch %3d  loss %.5f", progress.report.step, progress.report.epoch, progress.report.loss)
        if let v = progress.report.validationLoss { line += String(format: "  validation %.5f", v) }
        print(line)
      }
    }
    let board = !Ranks.isPrimary ? nil : try tensorboard.map { dir in try oneLine("--tensorboard") { try TensorBoardLog(directory: URL(fileURLWithPath: dir), options: options) } }
    board?.attach(to: trainer)
    let outcome = try trainer.run()
    try oneLine("--tensorboard") { try board?.finish() }
    print("stopped (\(outcome.reason.rawValue)) after \(outcome.step) steps")
    let trainLoss = try dataset.meanLoss(of: trainer.evaluationNetwork, indices: trainIndices, readout: readout)
    print(String(format: "mean loss per \(dataset.layout.rawValue): training %.5f", trainLoss), terminator: "")
    if !validIndices.isEmpty {
      print(
        String(format: ", validation %.5f", try dataset.meanLoss(of: trainer.evaluationNetwork, indices: validIndices, readout: readout)),
        terminator: "")
    }
    print("")
    let measured = validIndices.isEmpty ? trainIndices : validIndices
    print("metrics on the \(validIndices.isEmpty ? "training" : "validation") sequences (\(measured.count)):")
    try metricsOutput.report(
      try dataset.metrics(of: trainer.evaluationNetwork, indices: measured, readout: readout),
      title: "recur fit: \(data) (\(validIndices.isEmpty ? "training" : "validation"))")
    print("model written to \(checkpoint)")
    if let plot, Ranks.isPrimary {
      var series = [LinePlot.Series(name: "training loss", y: losses)]
      if !validationCurve.isEmpty {
        series.append(.init(name: "validation loss", x: validationCurve.map(\.0), y: validationCurve.map(\.1)))
      }
      try LinePlot(title: "recur fit: \(data)", xLabel: "step", yLabel: "loss", yScale: .log10, series: series)
        .write(to: URL(fileURLWithPath: plot))
      print("loss curves written to \(plot)")
    }
  }
}

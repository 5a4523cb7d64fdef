import ArgumentParser
import Foundation
import Recur

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
      The last --validation fraction of the sequences is held out and reported. The model is written to \
      --checkpoint for recur predict.
      """
  )

  @Option(help: "The training data: a .jsonl (JSON Lines) or .csv file.")
  var data: String

  @Option(help: "The targets: values, classes or binary (inferred from the file when left out).")
  var targets: SequenceDataset.TargetKind?

  @OptionGroup(title: "Model")
  var model: ModelOptions<SequenceModelDefaults>

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

  func validate() throws {
    guard validation >= 0, validation < 1 else { throw CLIError("--validation must be in [0, 1), got \(validation)") }
    if let epochs, epochs < 1 { throw CLIError("--epochs must be at least 1, got \(epochs)") }
    if optimization.scheduleChoice == .cosine, runOptions.steps == nil, epochs == nil, runOptions.time != nil {
      throw CLIError("--schedule cosine needs --steps or --epochs to know where the decay ends")
    }
  }

  func run() throws {
    runOptions.applyThreads()
    let dataset = try SequenceDataset.load(contentsOf: URL(fileURLWithPath: data), kind: targets)
    let q = dataset.inputs.count
    let (trainIndices, validIndices) = dataset.validationSplit(fraction: validation)
    print(
      "\(q) sequences (\(trainIndices.count) training, \(validIndices.count) validation), I = \(dataset.featureCount), "
        + "targets: \(dataset.kind.rawValue) (\(dataset.outputSize) output\(dataset.outputSize == 1 ? "" : "s")), loss \(dataset.loss.rawValue)")
    let shape = try model.shape(), seed = runOptions.seedValue, batchSize = runOptions.batch
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
    let options = TrainerOptions(
      optimizer: optimizer,
      schedule: optimization.scheduleChoice.schedule(
        learningRate: optimizer.learningRate, warmup: optimization.warmupSteps, plannedSteps: plannedSteps,
        stepsPerEpoch: source.batchesPerEpoch),
      clipping: optimization.clipping, loss: dataset.loss, reduction: .meanOverSequences,
      budget: TrainingBudget(steps: steps, epochs: epochs, seconds: runOptions.time),
      validationInterval: validIndices.isEmpty ? nil : max(1, source.batchesPerEpoch), divergenceFactor: nil,
      seed: seed)
    try Ranks.checkBatch(batchSize)
    let trainer = try Trainer(network: network, data: source, options: options)
    trainer.communicator = Ranks.communicator
    if Ranks.communicator.size > 1 {
      trainer.sharedSettings = Ranks.sharedSettings(files: [("--data", [UInt8](try Data(contentsOf: URL(fileURLWithPath: data))))])
    }
    trainer.checkpointURL = URL(fileURLWithPath: checkpoint)
    trainer.metadata = ["data.targets": dataset.kind.rawValue]
    let validBatches = try stride(from: 0, to: validIndices.count, by: 64).map {
      try dataset.batch(Array(validIndices[$0..<min($0 + 64, validIndices.count)]))
    }
    if !validBatches.isEmpty {
      trainer.validation = { try $0.meanLoss(over: validBatches, loss: dataset.loss, communicator: Ranks.communicator) }
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
    let outcome = try trainer.run()
    print("stopped (\(outcome.reason.rawValue)) after \(outcome.step) steps")
    let trainLoss = try trainer.network.meanLoss(over: [try dataset.batch(trainIndices)], loss: dataset.loss)
    print(String(format: "mean loss per step: training %.5f", trainLoss), terminator: "")
    if !validBatches.isEmpty {
      print(String(format: ", validation %.5f", try trainer.network.meanLoss(over: validBatches, loss: dataset.loss)), terminator: "")
    }
    print("")
    let measured = validIndices.isEmpty ? trainIndices : validIndices
    if let labels = dataset.stepLabels(measured), let predicted = try trainer.network.predictedStepLabels(dataset, measured) {
      let accuracy = ClassificationMetrics.accuracy(predicted: predicted, actual: labels)
      print(String(format: "per-step accuracy (%@): %.4f", validIndices.isEmpty ? "training" : "validation", accuracy))
    }
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

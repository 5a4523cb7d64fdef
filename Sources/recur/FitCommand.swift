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
  var targets: String?

  @OptionGroup var model: ModelOptions
  @OptionGroup var training: TaskTrainingArguments

  @Option(help: "Stop after this many passes over the training sequences.")
  var epochs: Int?

  @Option(help: "The fraction of sequences held out for validation (taken from the end of the file).")
  var validation = 0.1

  @Option(help: "Where to write the trained model.")
  var checkpoint = "model.safetensors"

  @Option(help: "Write the training and validation loss curves to this SVG file.")
  var plot: String?

  func validate() throws {
    try model.check()
    try training.check()
    if let targets, SequenceDataset.TargetKind(rawValue: targets) == nil {
      throw CLIError("--targets must be values, classes or binary, got '\(targets)'")
    }
    guard validation >= 0, validation < 1 else { throw CLIError("--validation must be in [0, 1), got \(validation)") }
    if let epochs, epochs < 1 { throw CLIError("--epochs must be at least 1, got \(epochs)") }
  }

  func run() throws {
    let dataset = try SequenceDataset.load(
      contentsOf: URL(fileURLWithPath: data), kind: targets.flatMap(SequenceDataset.TargetKind.init(rawValue:)))
    let q = dataset.inputs.count
    let held = q >= 10 ? Int((Double(q) * validation).rounded()) : 0
    let trainIndices = Array(0..<(q - held)), validIndices = Array((q - held)..<q)
    print(
      "\(q) sequences (\(trainIndices.count) training, \(validIndices.count) validation), I = \(dataset.featureCount), "
        + "targets: \(dataset.kind.rawValue) (\(dataset.outputSize) output\(dataset.outputSize == 1 ? "" : "s")), loss \(dataset.loss.rawValue)")
    let cell = try model.cellKind()
    try TrainPlan.checkMemory(
      dataset.networkConfiguration(cell: cell, hiddenSize: model.hidden),
      batch: min(training.batchSize, max(trainIndices.count, 1)), steps: dataset.inputs.map(\.count).max() ?? 1,
      advice: "lower --hidden or --batch-size (the model has \(dataset.outputSize) outputs)")
    var generator = SeededGenerator(seed: training.seed)
    var network = try RecurrentNetwork<Float>(
      dataset.networkConfiguration(cell: cell, hiddenSize: model.hidden), generator: &generator)
    let taskOptions = training.options(cell: cell, task: nil)
    if let initialization = taskOptions.initialization { try network.initialize(initialization, generator: &generator) }
    let source = try SequencePairs<Float>(dataset, indices: trainIndices, batchSize: training.batchSize, seed: training.seed)
    let steps = training.steps ?? (epochs == nil && training.time == nil ? 1000 : nil)
    let options = TrainerOptions(
      optimizer: taskOptions.optimizer, clipping: taskOptions.clipping, loss: dataset.loss,
      reduction: .meanOverSequences, budget: TrainingBudget(steps: steps, epochs: epochs, seconds: training.time),
      validationInterval: validIndices.isEmpty ? nil : max(1, source.batchesPerEpoch), divergenceFactor: nil,
      seed: training.seed)
    try Ranks.checkBatch(training.batchSize)
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
    if dataset.kind != .values {
      let accuracy = try Self.accuracy(trainer.network, dataset, validIndices.isEmpty ? trainIndices : validIndices)
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

  /// The fraction of steps whose predicted label matches the target, for class and binary targets.
  static func accuracy(_ network: RecurrentNetwork<Float>, _ dataset: SequenceDataset, _ indices: [Int]) throws -> Double {
    var right = 0, total = 0
    for i in indices {
      let outputs = try network.outputs(for: try dataset.batch([i])).outputs.scalars
      let V = dataset.outputSize
      for t in dataset.inputs[i].indices {
        let g = Array(outputs[(t * V)..<(t * V + V)])
        let predicted = dataset.kind == .binary ? Float(g[0] > 0.5 ? 1 : 0) : Float(g.indices.max { g[$0] < g[$1] }!)
        if predicted == dataset.targets[i][t][0] { right += 1 }
        total += 1
      }
    }
    return Double(right) / Double(max(total, 1))
  }
}

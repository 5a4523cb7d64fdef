import ArgumentParser
import Foundation
import Recur

/// `recur task NAME`: trains a network on a built-in generated task and reports the task's standard figure.
struct TaskCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "task",
    abstract: "Train a recurrent network on a built-in task and report its standard figure.",
    discussion: """
      Tasks: parity (parity of zeros, the chapter's state machine), lti (system identification of a known \
      stable LTI system), adding (the adding problem; baseline MSE 0.167), copy (copy memory), reber (the \
      embedded Reber grammar). --length sets T: the longest string for parity, the trajectory length for lti, \
      the sequence length for adding, the delay for copy. Every batch is freshly generated from --seed.
      """
  )

  @Argument(help: "The task: \(BuiltInTasks.names.joined(separator: ", ")).")
  var name: String

  @OptionGroup(title: "Model")
  var model: ModelOptions<SequenceModelDefaults>

  @OptionGroup(title: "Optimization")
  var optimization: OptimizationOptions<SequenceModelDefaults>

  @OptionGroup(title: "Run")
  var runOptions: RunOptions<SequenceModelDefaults>

  @Option(name: .customLong("length"), help: "T, the task's sequence length (each task has a default).")
  var length: Int?

  @Option(help: "Write the trained model to this checkpoint (safetensors).")
  var checkpoint: String?

  @Option(help: "Write the training loss curve to this SVG file.")
  var plot: String?

  func validate() throws {
    guard BuiltInTasks.names.contains(name) else {
      throw CLIError("unknown task '\(name)'; the tasks are \(BuiltInTasks.names.joined(separator: ", "))")
    }
    switch optimization.scheduleChoice {
    case .step: throw CLIError("--schedule step decays by epochs; recur task has none (every batch is new data)")
    case .cosine where runOptions.steps == nil && runOptions.time != nil:
      throw CLIError("--schedule cosine needs --steps to know where the decay ends")
    default: break
    }
  }

  func run() throws {
    runOptions.applyThreads()
    let task = try BuiltInTasks.make(name, length: length)
    let shape = try model.shape(), seed = runOptions.seedValue, batchSize = runOptions.batch
    print("\(task.summary)")
    print(
      "cell \(shape.cell), H = \(shape.hiddenSize)\(shape.layers > 1 ? ", L = \(shape.layers)" : ""), "
        + "batch \(batchSize), seed \(seed)")
    let configuration = shape.configuration(
      inputSize: task.inputSize, outputSize: task.outputSize, outputActivation: task.outputActivation)
    try checkMemory(configuration, batch: batchSize, steps: length ?? 1, advice: "lower --hidden, --layers or --batch-size")
    let steps = runOptions.steps ?? (runOptions.time == nil ? RunDefaults.sequenceModel.defaultSteps : nil)
    let optimizer = try optimization.makeOptimizer()
    let options = TaskTrainingOptions(
      optimizer: optimizer,
      schedule: optimization.scheduleChoice.schedule(
        learningRate: optimizer.learningRate, warmup: optimization.warmupSteps, plannedSteps: steps, stepsPerEpoch: 1),
      clipping: optimization.clipping, batchSize: batchSize, steps: steps, seconds: runOptions.time,
      initialization: shape.initialization, seed: seed)
    try options.validate()
    let network = try shape.makeNetwork(
      inputSize: task.inputSize, outputSize: task.outputSize, outputActivation: task.outputActivation, seed: seed)
    var lastPrint = 0
    let every = max(1, (options.steps ?? 1000) / 10)
    let result: TaskTrainingResult<Float> = try task.train(network, options: options) { step, loss in
      if step - lastPrint >= every {
        lastPrint = step
        print(String(format: "  step %6d  loss %.5f", step, loss))
      }
    }
    var generator = SeededGenerator(seed: seed &+ 0x7E57)
    let evaluation = try task.evaluate(result.network, generator: &generator)
    print(String(format: "trained %d steps in %.1f s; training loss (last 50) %.5f", result.steps, result.seconds, result.recentLoss()))
    print("test: \(evaluation)")
    if let checkpoint {
      let url = URL(fileURLWithPath: checkpoint)
      try Checkpoint(
        network: result.network, optimizerState: result.optimizerState,
        metadata: ["task.name": task.name, "task.length": String(length ?? 0)]
      ).write(to: url)
      print("checkpoint written to \(url.path)")
    }
    if let plot {
      let url = URL(fileURLWithPath: plot)
      try LinePlot(
        title: "\(task.name): training loss (\(shape.cell), H = \(shape.hiddenSize))", xLabel: "step", yLabel: "loss",
        yScale: .log10, series: [.init(name: "training loss", y: result.losses)]
      ).write(to: url)
      print("loss curve written to \(url.path)")
    }
  }
}

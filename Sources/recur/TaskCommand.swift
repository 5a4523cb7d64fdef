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

  @OptionGroup var model: ModelOptions
  @OptionGroup var training: TaskTrainingArguments

  @Option(name: .customLong("length"), help: "T, the task's sequence length (each task has a default).")
  var length: Int?

  @Option(help: "Write the trained model to this checkpoint (safetensors).")
  var checkpoint: String?

  @Option(help: "Write the training loss curve to this SVG file.")
  var plot: String?

  func validate() throws {
    guard BuiltInTasks.names.contains(name) else {
      throw ValidationError("unknown task '\(name)'; the tasks are \(BuiltInTasks.names.joined(separator: ", "))")
    }
    try model.check()
    try training.check()
  }

  func run() throws {
    let task = try BuiltInTasks.make(name, length: length)
    let cell = try model.cellKind()
    print("\(task.summary)")
    print("cell \(cell), H = \(model.hidden), batch \(training.batchSize), seed \(training.seed)")
    let options = training.options(cell: cell, task: task)
    var lastPrint = 0
    let every = max(1, (options.steps ?? 1000) / 10)
    let result: TaskTrainingResult<Float> = try task.train(cell: cell, hiddenSize: model.hidden, options: options) {
      step, loss in
      if step - lastPrint >= every {
        lastPrint = step
        print(String(format: "  step %6d  loss %.5f", step, loss))
      }
    }
    var generator = SeededGenerator(seed: training.seed &+ 0x7E57)
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
        title: "\(task.name): training loss (\(cell), H = \(model.hidden))", xLabel: "step", yLabel: "loss",
        yScale: .log10, series: [.init(name: "training loss", y: result.losses)]
      ).write(to: url)
      print("loss curve written to \(url.path)")
    }
  }
}

/// The shape of the network to train: cell and state size.
struct ModelOptions: ParsableArguments {
  @Option(help: "The cell: rnn (the chapter's RNN, tanh), gated (the chapter's gated RNN), lstm, gru, rnn_relu, gated_relu.")
  var cell = "lstm"

  @Option(help: "H, the state size.")
  var hidden = 32

  func check() throws {
    _ = try cellKind()
    guard (1...4096).contains(hidden) else { throw ValidationError("--hidden must be in 1…4096, got \(hidden)") }
  }

  func cellKind() throws -> CellKind {
    guard let kind = CellKind(cell) else {
      throw ValidationError("unknown cell '\(cell)'; use rnn, gated, lstm, gru, rnn_relu or gated_relu")
    }
    return kind
  }
}

/// Optimizer, budget and seed for training on a task or on a data file.
struct TaskTrainingArguments: ParsableArguments {
  @Option(help: "Stop after this many updates (default 1000 unless --time is given).")
  var steps: Int?

  @Option(help: "Stop after this many seconds of training.")
  var time: Double?

  @Option(name: .customLong("batch-size"), help: "Sequences per update.")
  var batchSize = 32

  @Option(name: .customLong("learning-rate"), help: "Adam's learning rate.")
  var learningRate = 0.01

  @Option(help: "Clip the gradient's global norm to this value (0: no clipping).")
  var clip = 1.0

  @Option(name: .customLong("forget-bias"), help: "LSTM forget-gate bias at initialization (default 1 for LSTMs).")
  var forgetBias: Double?

  @Option(help: "Seed for the initialization and the data.")
  var seed: UInt64 = 1

  func check() throws {
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
    if let time, !(time > 0) { throw ValidationError("--time must be positive, got \(time)") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    guard learningRate > 0, learningRate.isFinite else {
      throw ValidationError("--learning-rate must be positive, got \(learningRate)")
    }
    guard clip >= 0 else { throw ValidationError("--clip must be 0 or positive, got \(clip)") }
  }

  func options(cell: CellKind, task: (any SequenceTask)?) -> TaskTrainingOptions {
    var initialization: Initialization? = nil
    if cell == .lstm { initialization = Initialization(forgetGateBias: forgetBias ?? 1) }
    return TaskTrainingOptions(
      optimizer: .adam(learningRate: learningRate), clipping: clip > 0 ? .globalNorm(clip) : .none,
      batchSize: batchSize, steps: steps ?? (time == nil ? 1000 : nil), seconds: time,
      initialization: initialization, seed: seed)
  }
}

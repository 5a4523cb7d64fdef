import ArgumentParser
import Foundation
import Recur

/// `recur gradients`: ‖δ^{s_t}‖ for every step of a sequence, for several cells side by side, with a loss at
/// the last step only (the chapter's section "Vanishing gradients and gating mechanisms").
struct GradientsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gradients",
    abstract: "Show how the last step's loss gradient fades (or not) back through time, cell by cell.",
    discussion: """
      Prints ‖∂L_n/∂s_t‖ for t = 1 … n (for t < n, the chapter's future-loss gradient δ^{s_t}) and writes a \
      log-scale SVG plot. Untrained networks (one per cell, same seed) read random N(0, 1) inputs, or a \
      task's inputs with --task; with --checkpoint the trained model is measured on its task's data (the \
      task stored in the checkpoint, or --task) or on random inputs.
      """
  )

  @Option(help: "n, the sequence length.")
  var length = 100

  @Option(help: "H, the state size of the untrained networks.")
  var hidden = 32

  @Option(help: "Comma-separated cells to compare: rnn, gated, lstm, gru, rnn_relu, gated_relu.")
  var cells = "rnn,gated,lstm,gru"

  @Option(help: "Measure on this built-in task's data (\(BuiltInTasks.names.joined(separator: ", "))).")
  var task: String?

  @Option(help: "Measure this trained model (a checkpoint written by recur task, recur fit or recur train).")
  var checkpoint: String?

  @Option(name: .customLong("batch-size"), help: "Sequences averaged over.")
  var batchSize = 16

  @Option(help: "Print every k-th step of the table (the first and last always).")
  var every: Int?

  @Flag(help: "Plot norms relative to the last step's (every curve starts at 1).")
  var relative = false

  @Option(help: "Seed for inputs, targets and initialization.")
  var seed: UInt64 = 1

  @Option(name: .shortAndLong, help: "Write the plot to this SVG file.")
  var output = "gradients.svg"

  func validate() throws {
    guard length >= 1 else { throw CLIError("--length must be at least 1, got \(length)") }
    try checkSize(hidden, "--hidden", most: NetworkLimits.hiddenSize)
    guard batchSize >= 1 else { throw CLIError("--batch-size must be at least 1, got \(batchSize)") }
    if let task, !BuiltInTasks.names.contains(task) {
      throw CLIError("unknown task '\(task)'; the tasks are \(BuiltInTasks.names.joined(separator: ", "))")
    }
    _ = try cellKinds()
  }

  /// The cells named by --cells.
  func cellKinds() throws -> [CellKind] {
    try cells.split(separator: ",").map { name in
      let trimmed = name.trimmingCharacters(in: .whitespaces)
      guard let kind = CellKind(trimmed) else {
        throw CLIError("unknown cell '\(trimmed)'; use rnn, gated, lstm, gru, rnn_relu or gated_relu")
      }
      return kind
    }
  }

  func run() throws {
    for cell in try cellKinds() where checkpoint == nil {
      // The untrained networks take H-wide inputs at most (a task's are narrower).
      try checkMemory(
        RecurrentNetwork<Double>.Configuration(cell: cell, inputSize: hidden, hiddenSize: hidden, outputSize: hidden),
        batch: batchSize, steps: length, advice: "lower --hidden, --length or --batch-size")
    }
    let profiles: [GradientFlowProfile]
    let subject: String
    if let checkpoint {
      let loaded = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: checkpoint))
      let network = loaded.network
      let taskName = task ?? loaded.metadata["task.name"]
      if let taskName {
        let storedLength = Int(loaded.metadata["task.length"] ?? "") ?? 0
        let t = try BuiltInTasks.make(taskName, length: storedLength > 0 ? storedLength : length)
        var g = SeededGenerator(seed: seed)
        let data: TrainingBatch<Float> = try t.makeBatch(size: batchSize, generator: &g)
        profiles = [
          try GradientFlow.profile(
            of: network, on: data.batch, targets: data.lastStepTargets(), loss: t.loss,
            name: "trained \(network.configuration.cell)")
        ]
        subject = "trained on \(taskName), \(t.summary)"
      } else {
        profiles = [try Self.randomProfile(network, length: length, batchSize: batchSize, seed: seed)]
        subject = "trained model, random inputs"
      }
    } else if let task {
      let t = try BuiltInTasks.make(task, length: length)
      var g = SeededGenerator(seed: seed)
      let data: TrainingBatch<Double> = try t.makeBatch(size: batchSize, generator: &g)
      profiles = try cellKinds().map { cell in
        let network = try RecurrentNetwork<Double>(t.networkConfiguration(cell: cell, hiddenSize: hidden), seed: seed)
        return try GradientFlow.profile(of: network, on: data.batch, targets: data.lastStepTargets(), loss: t.loss)
      }
      subject = "untrained, H = \(hidden), on \(t.summary)"
    } else {
      profiles = try GradientFlow.compareUntrained(
        cells: cellKinds(), length: length, hiddenSize: hidden, batchSize: batchSize, seed: seed)
      subject = "untrained, H = \(hidden), random inputs, n = \(length)"
    }
    let n = profiles.map(\.norms.count).max() ?? 0
    print("‖∂L_n/∂s_t‖ with a loss at the last step only (\(subject)):")
    print(GradientFlow.table(profiles, every: every ?? max(1, n / 10)), terminator: "")
    for p in profiles {
      print(String(format: "%@: ‖δ^{s_1}‖ / ‖∂L_n/∂s_n‖ = %.3e", p.name, GradientFlow.attenuation(p)))
    }
    let url = URL(fileURLWithPath: output)
    try GradientFlow.plot(profiles, title: "Gradient norms through time (\(subject))", relative: relative).write(to: url)
    print("plot written to \(url.path)")
  }

  /// The profile of a trained network on N(0, 1) inputs (or random tokens) with a random last-step target.
  static func randomProfile<Scalar: RecurScalar>(
    _ network: RecurrentNetwork<Scalar>, length: Int, batchSize: Int, seed: UInt64
  ) throws -> GradientFlowProfile {
    let config = network.configuration
    var g = SeededGenerator(seed: seed)
    let inputs: SequenceBatch<Scalar>.Inputs
    if config.embeddingSize != nil {
      inputs = .tokens((0..<(length * batchSize)).map { _ in Int32(Int.random(in: 0..<config.inputSize, using: &g)) })
    } else {
      inputs = .vectors((0..<(length * batchSize * config.inputSize)).map { _ in Scalar(g.nextNormal()) }, features: config.inputSize)
    }
    let batch = try SequenceBatch<Scalar>(
      steps: length, batchSize: batchSize, inputs: inputs, targets: .classes(Array(repeating: -1, count: length * batchSize)))
    let V = config.outputSize
    switch config.outputActivation {
    case .softmax:
      return try GradientFlow.profile(
        of: network, on: batch, targets: .classes((0..<batchSize).map { _ in Int.random(in: 0..<V, using: &g) }),
        loss: .crossEntropy, name: "trained \(config.cell)")
    case .sigmoid:
      return try GradientFlow.profile(
        of: network, on: batch, targets: .values((0..<(batchSize * V)).map { _ in Scalar(Double(g.next() & 1)) }, width: V),
        loss: .binaryCrossEntropy, name: "trained \(config.cell)")
    case .identity, .tanh:
      return try GradientFlow.profile(
        of: network, on: batch, targets: .values((0..<(batchSize * V)).map { _ in Scalar(g.nextNormal()) }, width: V),
        loss: .squaredError, name: "trained \(config.cell)")
    }
  }
}

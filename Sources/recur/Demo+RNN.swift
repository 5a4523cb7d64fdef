import Foundation
import Recur

/// The demo's recurrent-network sections: an RNN learns the parity machine, the machine comes back out of
/// it, an RNN identifies an LTI system, and gating keeps gradients alive on a long-dependency task.
extension DemoSection {
  /// The seeded parity run shared by the learning and extraction sections (deterministic, so both sections
  /// see the same network).
  static func trainParity() throws -> (task: ParityTask, result: TaskTrainingResult<Float>) {
    let task = try ParityTask(maxLength: 10)
    let result: TaskTrainingResult<Float> = try task.train(
      cell: .rnn(.tanh), hiddenSize: 8, options: TaskTrainingOptions(batchSize: 32, steps: 1000, seed: 1))
    return (task, result)
  }

  static let rnnLearnsParity = DemoSection(
    title: "An RNN learns the parity machine",
    chapterSection: "Recurrent neural networks; Sequence-to-sequence RNN"
  ) { context in
    context.say("""
      The chapter's RNN, s_t = tanh(W^sx x_t + W^ss s_{t-1} + W^ss_0), y_t = σ(W^o s_t + W^o_0), with m = 8
      state units, is trained by BPTT (Adam) on strings of up to 10 digits whose targets come from the
      parity machine: y_t = 1 when x_1 … x_t holds an even number of zeros (the chapter's reduction of
      sequence classification to transduction, with 0/1 targets and a sigmoid cross-entropy).
      """)
    let (task, result) = try trainParity()
    var g = SeededGenerator(seed: 2)
    let evaluation = try task.evaluate(result.network, generator: &g)
    context.say(String(format: "%d updates in %.1f s; final training loss %.4f", result.steps, result.seconds, result.recentLoss()))
    context.printTable(
      [["test", "value"]] + ([evaluation.primary] + evaluation.others).map { [$0.name, String(format: "%.4f", $0.value)] })
    let example = ["1", "0", "0", "1", "0", "1", "1", "0"]
    let outputs = result.network.transduce(example.map { ParityTask.input($0) as NetworkInput<Float> })
    context.printTable([
      ["x_t"] + example,
      ["machine y_t"] + FiniteStateMachine.parityOfZeros.transduce(example),
      ["RNN σ(z_t)"] + outputs.map { String(format: "%.2f", $0[0]) },
    ])
    let url = try context.write(
      LinePlot(
        title: "The chapter's RNN learning parity of zeros", xLabel: "update", yLabel: "training loss J(W)",
        yScale: .log10, series: [.init(name: "rnn_tanh, m = 8", y: result.losses)]
      ).svg(), to: "rnn-parity-loss.svg")
    context.say("loss curve: \(url.lastPathComponent)")
    guard evaluation.solved else { throw DemoFailure("the RNN did not learn parity (\(evaluation))") }
  }

  static let machineFromRNN = DemoSection(
    title: "The machine inside the RNN",
    chapterSection: "State machines"
  ) { context in
    context.say("""
      The trained RNN is a state machine with states in ℝ^8. Running it over random strings and clustering
      its states with k-means (k = 2, 3, … until the quantized machine agrees with the network on fresh
      strings), taking transitions by majority vote and minimizing gives a finite machine back.
      """)
    let (_, result) = try trainParity()
    let extracted = try StateMachineExtraction.extract(
      from: result.network, alphabet: [("0", ParityTask.input("0")), ("1", ParityTask.input("1"))],
      label: ParityTask.label, target: .parityOfZeros,
      options: .init(sampleCount: context.quick ? 100 : 200, checkCount: context.quick ? 100 : 300, seed: 1))
    context.say(
      extracted.agreementByClusterCount.map { String(format: "k = %d: agreement %.4f", $0.k, $0.agreement) }
        .joined(separator: ", "))
    context.say("quantized machine: \(extracted.machine.states.count) states → minimized: \(extracted.minimized.states.count) states")
    context.say(extracted.minimized.tableDescription)
    context.say(
      String(
        format: "held-out strings (up to 40 digits): agrees with the RNN on %.2f%% of steps, with the parity machine on %.2f%%",
        100 * extracted.agreementWithNetwork, 100 * (extracted.agreementWithTarget ?? 0)))
    let dot = try context.write(extracted.minimized.graphvizDOT(name: "extracted from the RNN"), to: "rnn-extracted.dot")
    _ = context.renderSVG(dot)
    guard extracted.equivalentToTarget == true else {
      throw DemoFailure("the extracted machine is not equivalent to the parity machine")
    }
    context.say("Equivalent to the chapter's two-state parity machine: yes.")
  }

  static let rnnIdentifiesLTI = DemoSection(
    title: "An RNN identifies an LTI system",
    chapterSection: "State machines (LTI systems); Recurrent neural networks"
  ) { context in
    let task = try LTIIdentificationTask(length: 40)
    let sys = task.system
    context.say("""
      A damped oscillator s_t = A s_{t-1} + B x_t, y_t = C s_t (poles 0.9 e^{±0.3i}) is driven by N(0, 1)
      inputs. The chapter's RNN (tanh, m = 8, linear output) learns the transduction x → y from trajectories
      of 40 steps, with a squared error at every step; it never sees A, B or C.
      """)
    context.say("A = \(sys.stateMatrix.scalars.map { String(format: "%.3f", $0) }), B = \(sys.inputMatrix.scalars), C = \(sys.outputMatrix.scalars)")
    let result: TaskTrainingResult<Float> = try task.train(
      cell: .rnn(.tanh), hiddenSize: 8,
      options: TaskTrainingOptions(optimizer: .adam(learningRate: 0.005), batchSize: 32, steps: context.quick ? 500 : 2000, seed: 3))
    var g = SeededGenerator(seed: 4)
    let evaluation = try task.evaluate(result.network, generator: &g)
    context.say(String(format: "%d updates in %.1f s", result.steps, result.seconds))
    context.printTable(
      [["test (fresh trajectories)", "value"]]
        + [["MSE of predicting 0 (output power)", String(format: "%.4f", evaluation.baseline ?? 0)]]
        + ([evaluation.primary] + evaluation.others).map { [$0.name, String(format: "%.4f", $0.value)] })
    // One trajectory, system against network.
    var tg = SeededGenerator(seed: 5)
    let (x, y) = try task.trajectories(count: 1, length: 60, generator: &tg)
    let predicted = result.network.transduce(x[0].map { NetworkInput<Float>.vector($0.map { Float($0) }) })
    let url = try context.write(
      LinePlot(
        title: "LTI system vs the RNN that learned it (a fresh input sequence)", xLabel: "t", yLabel: "y_t",
        series: [
          .init(name: "system C s_t", y: y[0].map { $0[0] }),
          .init(name: "RNN output", y: predicted.map { Double($0[0]) }),
        ]
      ).svg(), to: "lti-identification.svg")
    context.say("trajectory plot: \(url.lastPathComponent)")
  }

  static let longDependencies = DemoSection(
    title: "Long dependencies: vanishing gradients and gating",
    chapterSection: "Vanishing gradients and gating mechanisms"
  ) { context in
    let T = context.quick ? 30 : 50
    let steps = context.quick ? 400 : 2000
    let task = try AddingTask(length: T)
    context.say("""
      The adding problem (Hochreiter & Schmidhuber 1997): T = \(T) steps of (value, marker); output the sum of
      the two marked values after the last step — a loss at the end that depends on inputs far back.
      Always predicting the mean scores an MSE of 0.167. The chapter's RNN, its gated RNN and an LSTM
      (m = 32 each) train for \(steps) updates with the same seed.
      """)
    let cells: [(CellKind, String)] = [(.rnn(.tanh), "RNN"), (.gated(.tanh), "gated RNN"), (.lstm, "LSTM")]
    var rows = [["cell", "test MSE", "solved (< 0.01)", "seconds"]]
    var trained: [(String, RecurrentNetwork<Float>)] = []
    var curves: [LinePlot.Series] = []
    for (cell, name) in cells {
      let options = TaskTrainingOptions(
        batchSize: 32, steps: steps, initialization: cell == .lstm ? Initialization(forgetGateBias: 1) : nil, seed: 1)
      let result: TaskTrainingResult<Float> = try task.train(cell: cell, hiddenSize: 32, options: options)
      var g = SeededGenerator(seed: 7)
      let evaluation = try task.evaluate(result.network, generator: &g)
      rows.append([name, String(format: "%.4f", evaluation.primary.value), evaluation.solved ? "yes" : "no", String(format: "%.1f", result.seconds)])
      trained.append((name, result.network))
      // A running mean keeps the curve readable.
      var smoothed: [Double] = []
      var running = result.losses.first ?? 0
      for l in result.losses {
        running = 0.95 * running + 0.05 * l
        smoothed.append(running)
      }
      curves.append(.init(name: name, y: smoothed))
    }
    context.printTable(rows)
    try context.write(
      LinePlot(title: "Adding problem, T = \(T): training loss", xLabel: "update", yLabel: "squared error (running mean)",
        yScale: .log10, series: curves + [.init(name: "predict the mean", x: [1, Double(steps)], y: [1.0 / 6, 1.0 / 6])]
      ).svg(), to: "adding-loss.svg")

    // ‖δ^{s_t}‖ through time for the trained networks on the task's own sequences.
    var g = SeededGenerator(seed: 8)
    let data: TrainingBatch<Float> = try task.makeBatch(size: 32, generator: &g)
    let profiles = try trained.map { name, network in
      try GradientFlow.profile(of: network, on: data.batch, targets: data.lastStepTargets(), loss: .squaredError, name: name)
    }
    context.say("""
      ‖δ^{s_t}‖ = ‖∂L_T/∂s_t‖ with the loss at the last step only — the chapter's product
      (∂s_2/∂s_1)(∂s_3/∂s_2)⋯ applied to the final error, relative to its value at t = T:
      """)
    let marks = [1, T / 4, T / 2, 3 * T / 4, T]
    context.printTable(
      [["t"] + profiles.map(\.name)]
        + marks.map { t in ["\(t)"] + profiles.map { String(format: "%.2e", $0.relativeNorms[t - 1]) } })
    try context.write(
      GradientFlow.plot(profiles, title: "Gradient norms through time after training (adding, T = \(T))", relative: true).svg(),
      to: "gradient-norms-trained.svg")
    let untrained = try GradientFlow.compareUntrained(length: T, hiddenSize: 32, seed: 1)
    try context.write(
      GradientFlow.plot(untrained, title: "Gradient norms through time at initialization (n = \(T))", relative: true).svg(),
      to: "gradient-norms-untrained.svg")
    context.say("plots: adding-loss.svg, gradient-norms-trained.svg, gradient-norms-untrained.svg")
  }
}

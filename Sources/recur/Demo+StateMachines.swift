import Foundation
import Recur

/// The demo sections for the chapter's section "State machines".
extension DemoSection {
  /// The chapter's finite state machine for the parity of zeros: its table, runs with state trajectories,
  /// acceptance, and its transition diagram as DOT.
  static let parityMachine = DemoSection(
    title: "A finite state machine: the parity of the number of zeros",
    chapterSection: "State machines"
  ) { context in
    let parity = FiniteStateMachine.parityOfZeros
    context.say("""
      A state machine is (S, X, Y, s_0, f_s, f_o): s_t = f_s(s_{t-1}, x_t), y_t = f_o(s_t).
      This one reads binary strings; it ends in S1 exactly when the string has an even number of zeros.
      Its transition table (→ marks s_0, * an accepting state):

      """)
    for line in parity.tableDescription.split(separator: "\n") { print("  " + line) }

    let strings = context.quick ? ["0110", "1001"] : ["0110", "1001", "000", "10100111"]
    for string in strings {
      let inputs = string.map { String($0) }
      let run = try parity.run(inputs)
      let zeros = inputs.filter { $0 == "0" }.count
      print("")
      print("  x = \(string)   (\(zeros) zero\(zeros == 1 ? "" : "s"); accepted: \(try parity.accepts(inputs) ? "yes" : "no"))")
      context.printTable([
        ["t"] + (0...inputs.count).map(String.init),
        ["x_t", ""] + inputs,
        ["s_t"] + run.states,
        ["y_t", ""] + run.outputs,
      ])
    }

    // The acceptance claim, checked on every string up to a length.
    let maxLength = context.quick ? 10 : 16
    var checked = 0
    var current: [[String]] = [[]]
    for length in 0...maxLength {
      if length > 0 { current = current.flatMap { [$0 + ["0"], $0 + ["1"]] } }
      for string in current {
        let even = string.filter { $0 == "0" }.count % 2 == 0
        guard (parity.finalState(after: string) == "S1") == even else {
          throw DemoFailure("the parity machine disagrees with the zero count on \(string.joined())")
        }
        checked += 1
      }
    }
    print("")
    print("  Checked all \(checked) binary strings of length ≤ \(maxLength): each ends in S1 iff its zero count is even.")

    let dotFile = try context.write(parity.graphvizDOT(name: "parity of zeros"), to: "parity.dot")
    if let svg = context.renderSVG(dotFile) {
      print("  Transition diagram: \(dotFile.lastPathComponent), rendered to \(svg.lastPathComponent).")
    } else {
      print("  Transition diagram: \(dotFile.lastPathComponent) (render with: dot -Tsvg \(dotFile.path) -o parity.svg).")
    }
  }

  /// Minimization and equivalence: a redundant machine collapses to the parity machine.
  static let minimization = DemoSection(
    title: "Minimizing a machine and checking equivalence",
    chapterSection: "State machines"
  ) { context in
    // Counting zeros modulo 4 and reporting the parity needs four states, but only two are distinguishable.
    let modFour = try FiniteStateMachine(
      states: ["Z0", "Z1", "Z2", "Z3"], inputs: ["0", "1"], initialState: "Z0",
      transitions: [
        "Z0": ["0": "Z1", "1": "Z0"], "Z1": ["0": "Z2", "1": "Z1"],
        "Z2": ["0": "Z3", "1": "Z2"], "Z3": ["0": "Z0", "1": "Z3"],
      ],
      outputs: ["Z0": "1", "Z1": "0", "Z2": "1", "Z3": "0"],
      accepting: ["Z0", "Z2"])
    let minimal = modFour.minimized()
    let classes = modFour.equivalentStateClasses().map { "{" + $0.joined(separator: ", ") + "}" }
    print("  A machine counting zeros modulo 4 and outputting their parity has \(modFour.states.count) states.")
    print("  Partition refinement finds the classes of equivalent states: \(classes.joined(separator: " "))")
    print("  Minimized, it has \(minimal.states.count) states:")
    for line in minimal.tableDescription.split(separator: "\n") { print("    " + line) }
    print("  Equivalent to the parity machine: \(minimal.isEquivalent(to: .parityOfZeros) ? "yes" : "no")")

    let parityOfOnes = try FiniteStateMachine(
      states: ["S0", "S1"], inputs: ["0", "1"], initialState: "S1",
      transitions: ["S0": ["0": "S0", "1": "S1"], "S1": ["0": "S1", "1": "S0"]],
      outputs: ["S0": "0", "S1": "1"], accepting: ["S1"])
    if let witness = try parityOfOnes.distinguishingInput(from: .parityOfZeros) {
      print("  The parity-of-ones machine is not: the shortest input telling them apart is \"\(witness.joined())\".")
    }
    try context.write(modFour.graphvizDOT(name: "zeros modulo 4"), to: "zeros-mod-4.dot")
    try context.write(minimal.graphvizDOT(name: "zeros modulo 4, minimized"), to: "zeros-mod-4-minimized.dot")
  }

  /// The chapter's LTI system: impulse responses against the closed form C·A^(t-1)·B.
  static let ltiImpulseResponse = DemoSection(
    title: "A linear time-invariant system and its impulse response",
    chapterSection: "State machines"
  ) { context in
    context.say("""
      s_t = A s_{t-1} + B x_t,  y_t = C s_t.  After a unit impulse (x_1 = 1, then 0) the output is
      y_t = C·A^(t-1)·B: it decays when every eigenvalue of A is inside the unit circle.

      """)
    let (a, b, c) = (0.8, 1.0, 2.0)
    let scalar = try LTISystem(A: [[a]], B: [[b]], C: [[c]])
    let steps = context.quick ? 8 : 12
    let response = try scalar.impulseResponse(steps: steps)
    print("  Scalar system A = \(a), B = \(b), C = \(c):")
    var rows = [["t", "y_t", "C·A^(t-1)·B"]]
    for (t, y) in zip(1..., response) {
      rows.append([String(t), String(format: "%.6f", y[0]), String(format: "%.6f", c * pow(a, Double(t - 1)) * b)])
    }
    context.printTable(rows)

    // A damped rotation: the state spirals in, so the output oscillates while it decays.
    let (radius, angle) = (0.9, Double.pi / 6)
    let spiral = try LTISystem(
      A: [[radius * cos(angle), -radius * sin(angle)], [radius * sin(angle), radius * cos(angle)]],
      B: [[1], [0]], C: [[1, 0]])
    let spiralSteps = context.quick ? 24 : 48
    let spiralResponse = try spiral.impulseResponse(steps: spiralSteps)
    print("")
    print("  Damped rotation (radius \(radius), angle π/6): y_t = 0.9^(t-1)·cos((t-1)π/6)")
    let shown = spiralResponse.prefix(8).map { String(format: "%+.3f", $0[0]) }
    print("  y_1 … y_8 = " + shown.joined(separator: "  "))
    let spiralError = zip(1..., spiralResponse).map { t, y in
      abs(y[0] - pow(radius, Double(t - 1)) * cos(Double(t - 1) * angle))
    }.max() ?? 0
    print(String(format: "  Largest difference from the closed form over %d steps: %.1e", spiralSteps, spiralError))
    var csv = "t,scalar_y,scalar_closed_form,spiral_y\n"
    for t in 1...max(steps, spiralSteps) {
      let s = t <= steps ? String(response[t - 1][0]) : ""
      let closed = t <= steps ? String(c * pow(a, Double(t - 1)) * b) : ""
      let r = t <= spiralSteps ? String(spiralResponse[t - 1][0]) : ""
      csv += "\(t),\(s),\(closed),\(r)\n"
    }
    let file = try context.write(csv, to: "lti-impulse-response.csv")
    print("  Both responses: \(file.lastPathComponent)")
  }

  /// Combinators: the parity machine feeding a counter, and two machines side by side.
  static let combinators = DemoSection(
    title: "Composing machines: cascade and parallel",
    chapterSection: "State machines"
  ) { context in
    let parity = FiniteStateMachine.parityOfZeros
    let counter = AnyStateMachine<Int, String, Int>(
      initialState: 0, transition: { count, y in count + (y == "1" ? 1 : 0) }, output: { $0 })
    let string = context.quick ? "0100" : "01001101"
    let inputs = string.map { String($0) }
    let cascade = parity.cascade(counter)
    let parallel = parity.parallel(counter)
    print("  Cascade: the parity machine's output feeds a counter of 1s (steps with an even zero count so far).")
    print("  Parallel: the same counter reads the raw input alongside the parity machine.")
    context.printTable([
      ["", "x_t"] + inputs,
      ["parity", "y_t"] + parity.transduce(inputs),
      ["cascade", "y_t"] + cascade.transduce(inputs).map(String.init),
      ["parallel", "y_t"] + parallel.transduce(inputs).map { "(\($0.0),\($0.1))" },
    ])
  }
}

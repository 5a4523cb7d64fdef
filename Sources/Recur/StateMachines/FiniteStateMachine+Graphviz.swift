extension FiniteStateMachine {
  /// The transition diagram in Graphviz DOT, drawn as in the chapter: one node per state, labelled with
  /// its name and output; one arc per pair of states, labelled with the inputs that cause the transition.
  ///
  /// Accepting states are drawn as double circles; an unlabelled arrow points at s_0. Render with
  /// `dot -Tsvg machine.dot -o machine.svg`.
  ///
  /// - Parameter name: the graph's name.
  /// - Returns: a `digraph` in DOT syntax, ending with a newline.
  public func graphvizDOT(name: String = "StateMachine") -> String {
    // The invisible start node gets an identifier that no state uses.
    var start = "__start"
    while stateIndex(of: start) != nil { start += "_" }
    var lines = [
      "digraph \(Self.quoted(name)) {",
      "  rankdir=LR;",
      "  node [shape=circle, fontname=\"Helvetica\"];",
      "  edge [fontname=\"Helvetica\"];",
      "  \(start) [shape=point, label=\"\"];",
    ]
    for (s, state) in states.enumerated() {
      let shape = acceptingTable[s] ? "doublecircle" : "circle"
      let label = Self.quoted("\(state)\ny = \(outputTable[s])")
      lines.append("  \(Self.quoted(state)) [label=\(label), shape=\(shape)];")
    }
    lines.append("  \(start) -> \(Self.quoted(states[initialIndex]));")
    for (s, row) in table.enumerated() {
      // Group the inputs leading to the same next state into one arc, in input order.
      var targets: [Int] = []
      var labels: [Int: [String]] = [:]
      for (x, target) in row.enumerated() {
        if labels[target] == nil { targets.append(target) }
        labels[target, default: []].append(inputs[x])
      }
      for target in targets {
        let label = Self.quoted(labels[target]!.joined(separator: ", "))
        lines.append("  \(Self.quoted(states[s])) -> \(Self.quoted(states[target])) [label=\(label)];")
      }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`.
  private static func quoted(_ text: String) -> String {
    var result = "\""
    for character in text {
      switch character {
      case "\\": result += "\\\\"
      case "\"": result += "\\\""
      case "\n": result += "\\n"
      default: result.append(character)
      }
    }
    return result + "\""
  }

  /// The transition table as aligned text: one row per state with its output, next states and whether
  /// it accepts; s_0 is marked with `→`, accepting states with `*`.
  public var tableDescription: String {
    let header = ["", "state", "output"] + inputs.map { "on \($0)" }
    var rows = [header]
    for (s, state) in states.enumerated() {
      let mark = (s == initialIndex ? "→" : " ") + (acceptingTable[s] ? "*" : " ")
      rows.append([mark, state, outputTable[s]] + table[s].map { states[$0] })
    }
    var widths = [Int](repeating: 0, count: header.count)
    for row in rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    return rows.map { row in
      zip(row, widths).map { cell, width in cell + String(repeating: " ", count: width - cell.count) }
        .joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n")
  }
}

extension String {
  fileprivate func trimmingTrailingSpaces() -> String {
    var result = self
    while result.last == " " { result.removeLast() }
    return result
  }
}

import Foundation
import Testing

@testable import Recur

/// Every binary string of length 0 … `maxLength`, as arrays of "0"/"1" input names.
func binaryStrings(upTo maxLength: Int) -> [[String]] {
  var all: [[String]] = [[]]
  var previous: [[String]] = [[]]
  for _ in 0..<maxLength {
    previous = previous.flatMap { [$0 + ["0"], $0 + ["1"]] }
    all += previous
  }
  return all
}

@Suite("Finite state machines")
struct FiniteStateMachineTests {
  let parity = FiniteStateMachine.parityOfZeros

  @Test("parity of zeros: every binary string up to length 12 ends in S1 iff its number of zeros is even")
  func parityOnAllStrings() throws {
    let strings = binaryStrings(upTo: 12)
    #expect(strings.count == (1 << 13) - 1)
    for string in strings {
      let zeros = string.filter { $0 == "0" }.count
      let even = zeros % 2 == 0
      #expect((parity.finalState(after: string) == "S1") == even, "string \(string.joined())")
      #expect(try parity.accepts(string) == even)
    }
  }

  @Test("parity of zeros: y_t is \"1\" exactly when x_1 … x_t has an even number of zeros")
  func parityOutputs() throws {
    for string in binaryStrings(upTo: 8) {
      var zeros = 0
      let expected = string.map { x -> String in
        if x == "0" { zeros += 1 }
        return zeros % 2 == 0 ? "1" : "0"
      }
      #expect(parity.transduce(string) == expected)
      let run = try parity.run(string)
      #expect(run.outputs == expected)
      #expect(run.states.count == string.count + 1)
      #expect(run.states.first == "S1")
      #expect(run.states.dropFirst().map { parity.output($0) } == expected)
    }
  }

  @Test("parity of zeros: the shipped constant equals the machine built from the chapter's table")
  func parityFromTable() throws {
    let built = try FiniteStateMachine(
      states: ["S0", "S1"], inputs: ["0", "1"], initialState: "S1",
      transitions: ["S0": ["0": "S1", "1": "S0"], "S1": ["0": "S0", "1": "S1"]],
      outputs: ["S0": "0", "S1": "1"], accepting: ["S1"])
    #expect(built == parity)
    #expect(parity.transitions == ["S0": ["0": "S1", "1": "S0"], "S1": ["0": "S0", "1": "S1"]])
    #expect(parity.outputs == ["S0": "0", "S1": "1"])
    #expect(parity.acceptingStates == ["S1"])
    #expect(parity.initialState == "S1")
  }

  @Test("step carries the state exactly as transduce does")
  func streaming() {
    let input = ["1", "0", "0", "1", "0"]
    var state = parity.initialState
    var outputs: [String] = []
    for x in input {
      let (next, y) = parity.step(state, x)
      state = next
      outputs.append(y)
    }
    #expect(outputs == parity.transduce(input))
    #expect(state == parity.finalState(after: input))
    #expect(parity.transduce(["0"], from: "S0") == ["1"])
  }

  @Test("accepts a string of single-character input names")
  func acceptsString() throws {
    #expect(try parity.accepts(""))
    #expect(try parity.accepts("1001"))
    #expect(try !parity.accepts("10"))
  }

  @Test("unknown names at run time throw errors that name them")
  func runTimeErrors() {
    #expect(throws: FiniteStateMachineError.unknownInput("2")) { try parity.accepts(["1", "2", "0"]) }
    #expect(throws: FiniteStateMachineError.unknownInput("a")) { try parity.accepts("0a") }
    #expect(throws: FiniteStateMachineError.unknownInput("x")) { try parity.run(["x"]) }
    #expect(throws: FiniteStateMachineError.unknownState("S9")) { try parity.run(["0"], from: "S9") }
    #expect(throws: FiniteStateMachineError.unknownState("S9")) { try parity.nextState(from: "S9", on: "0") }
    #expect(throws: FiniteStateMachineError.unknownInput("7")) { try parity.nextState(from: "S0", on: "7") }
    #expect(FiniteStateMachineError.unknownInput("2").description == "unknown input '2'")
    #expect(FiniteStateMachineError.unknownState("S9").description == "unknown state 'S9'")
  }

  /// Builds a two-state machine over {a, b} with the given changes to a complete, valid table.
  func machine(
    states: [String] = ["p", "q"], inputs: [String] = ["a", "b"], initial: String = "p",
    transitions: [String: [String: String]] = ["p": ["a": "q", "b": "p"], "q": ["a": "p", "b": "q"]],
    outputs: [String: String] = ["p": "0", "q": "1"], accepting: Set<String> = ["q"]
  ) throws(FiniteStateMachineError) -> FiniteStateMachine {
    try FiniteStateMachine(
      states: states, inputs: inputs, initialState: initial, transitions: transitions,
      outputs: outputs, accepting: accepting)
  }

  @Test("a valid table builds")
  func validTable() throws {
    let m = try machine()
    #expect(m.transduce(["a", "a", "b"]) == ["1", "0", "0"])
    #expect(m.stateIndex(of: "q") == 1)
    #expect(m.inputIndex(of: "b") == 1)
    #expect(m.stateIndex(of: "r") == nil)
  }

  @Test("each validation error is thrown and its message names the problem")
  func validationErrors() {
    let cases: [(FiniteStateMachineError, String, () throws(FiniteStateMachineError) -> FiniteStateMachine)] = [
      (.noStates, "no states", { () throws(FiniteStateMachineError) in try machine(states: []) }),
      (.noInputs, "no inputs", { () throws(FiniteStateMachineError) in try machine(inputs: []) }),
      (.duplicateState("p"), "state 'p' is listed more than once",
       { () throws(FiniteStateMachineError) in try machine(states: ["p", "q", "p"]) }),
      (.duplicateInput("b"), "input 'b' is listed more than once",
       { () throws(FiniteStateMachineError) in try machine(inputs: ["a", "b", "b"]) }),
      (.unknownInitialState("z"), "initial state 'z' is not one of the states",
       { () throws(FiniteStateMachineError) in try machine(initial: "z") }),
      (.unknownStateInTransitions("r"), "transition table has a row for unknown state 'r'",
       { () throws(FiniteStateMachineError) in
         try machine(transitions: ["p": ["a": "q", "b": "p"], "q": ["a": "p", "b": "q"], "r": ["a": "p"]])
       }),
      (.unknownInputInTransitions(state: "q", input: "c"), "row 'q' has an entry for unknown input 'c'",
       { () throws(FiniteStateMachineError) in
         try machine(transitions: ["p": ["a": "q", "b": "p"], "q": ["a": "p", "b": "q", "c": "p"]])
       }),
      (.missingTransition(state: "q", input: "b"), "missing transition from state 'q' on input 'b'",
       { () throws(FiniteStateMachineError) in try machine(transitions: ["p": ["a": "q", "b": "p"], "q": ["a": "p"]]) }),
      (.missingTransition(state: "q", input: "a"), "missing transition from state 'q' on input 'a'",
       { () throws(FiniteStateMachineError) in try machine(transitions: ["p": ["a": "q", "b": "p"]]) }),
      (.unknownTargetState(state: "p", input: "b", target: "w"),
       "transition from state 'p' on input 'b' leads to unknown state 'w'",
       { () throws(FiniteStateMachineError) in try machine(transitions: ["p": ["a": "q", "b": "w"], "q": ["a": "p", "b": "q"]]) }),
      (.unknownStateInOutputs("r"), "output table names unknown state 'r'",
       { () throws(FiniteStateMachineError) in try machine(outputs: ["p": "0", "q": "1", "r": "2"]) }),
      (.missingOutput(state: "q"), "missing output for state 'q'",
       { () throws(FiniteStateMachineError) in try machine(outputs: ["p": "0"]) }),
      (.unknownAcceptingState("r"), "accepting state 'r' is not one of the states",
       { () throws(FiniteStateMachineError) in try machine(accepting: ["q", "r"]) }),
    ]
    for (expected, message, build) in cases {
      #expect(throws: expected) { try build() }
      #expect(expected.description.contains(message), "\(expected.description)")
      do {
        _ = try build()
      } catch {
        #expect(error.description.contains(message))
      }
    }
  }

  @Test("DOT export: nodes labelled with outputs, arcs with inputs, start arrow, accepting double circle")
  func graphviz() {
    let dot = parity.graphvizDOT(name: "parity")
    #expect(dot.hasPrefix("digraph \"parity\" {\n"))
    #expect(dot.hasSuffix("}\n"))
    #expect(dot.contains("\"S0\" [label=\"S0\\ny = 0\", shape=circle];"))
    #expect(dot.contains("\"S1\" [label=\"S1\\ny = 1\", shape=doublecircle];"))
    #expect(dot.contains("__start -> \"S1\";"))
    #expect(dot.contains("\"S0\" -> \"S1\" [label=\"0\"];"))
    #expect(dot.contains("\"S0\" -> \"S0\" [label=\"1\"];"))
    #expect(dot.contains("\"S1\" -> \"S0\" [label=\"0\"];"))
    #expect(dot.contains("\"S1\" -> \"S1\" [label=\"1\"];"))
    #expect(dot.components(separatedBy: "->").count - 1 == 5)
  }

  @Test("DOT export: inputs to the same state share an arc; quotes and backslashes are escaped")
  func graphvizEscaping() throws {
    let m = try FiniteStateMachine(
      states: ["say \"hi\"", "a\\b"], inputs: ["x", "y"], initialState: "say \"hi\"",
      transitions: ["say \"hi\"": ["x": "a\\b", "y": "a\\b"], "a\\b": ["x": "a\\b", "y": "say \"hi\""]],
      outputs: ["say \"hi\"": "0", "a\\b": "1"])
    let dot = m.graphvizDOT()
    #expect(dot.contains("\"say \\\"hi\\\"\" -> \"a\\\\b\" [label=\"x, y\"];"))
    #expect(dot.contains("__start -> \"say \\\"hi\\\"\";"))

    // A state named like the start marker does not capture the start arrow.
    let clash = try FiniteStateMachine(
      states: ["__start", "b"], inputs: ["x"], initialState: "b",
      transitions: ["__start": ["x": "b"], "b": ["x": "__start"]], outputs: ["__start": "0", "b": "1"])
    let clashDOT = clash.graphvizDOT()
    #expect(clashDOT.contains("  __start_ [shape=point"))
    #expect(clashDOT.contains("  __start_ -> \"b\";"))
  }

  @Test("table description lists every state, its output and next states")
  func table() {
    let lines = parity.tableDescription.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    #expect(lines[0].contains("state") && lines[0].contains("output") && lines[0].contains("on 0"))
    #expect(lines[1].split(separator: " ") == ["S0", "0", "S1", "S0"])
    #expect(lines[2].split(separator: " ") == ["→*", "S1", "1", "S0", "S1"])
  }
}

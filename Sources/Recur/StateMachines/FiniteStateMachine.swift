/// A finite state machine (𝒮, 𝒳, 𝒴 finite) given by a transition table over named states, inputs and
/// outputs, as in the chapter's section "State machines".
///
/// States, inputs and outputs are named by strings, so that a machine reads like its transition diagram:
/// each state has an output (the node label), each (state, input) pair a next state (an arc labelled with
/// the input). A machine may also mark some states as *accepting*, which makes it usable as an acceptor
/// (``accepts(_:)-(Inputs)``). The table is validated once, at construction; after that every state × input entry
/// is known to exist.
///
/// The ``StateMachine`` requirements take and return names. ``transition(_:_:)`` expects a state and an
/// input of this machine (a precondition, like an array index); the throwing entry points
/// ``run(_:from:)``, ``accepts(_:)-(Inputs)`` and ``nextState(from:on:)`` check names and throw
/// ``FiniteStateMachineError`` instead.
public struct FiniteStateMachine: StateMachine, Sendable, Equatable {
  public typealias State = String
  public typealias Input = String
  public typealias Output = String

  /// The state names, in the order given at construction (index `i` is state `states[i]`).
  public let states: [String]
  /// The input names (the alphabet 𝒳), in the order given at construction.
  public let inputs: [String]
  /// The index of the initial state s_0 in ``states``.
  public let initialIndex: Int
  /// `table[s][x]` is the index of f_s(states[s], inputs[x]).
  public let table: [[Int]]
  /// `outputTable[s]` is f_o(states[s]).
  public let outputTable: [String]
  /// `acceptingTable[s]` is true when `states[s]` is an accepting state.
  public let acceptingTable: [Bool]

  private let stateIndexByName: [String: Int]
  private let inputIndexByName: [String: Int]

  /// Creates a machine from its transition table and checks that the table is complete.
  ///
  /// - Parameters:
  ///   - states: the state names 𝒮, each once; their order fixes state indices and diagram order.
  ///   - inputs: the input names 𝒳, each once.
  ///   - initialState: s_0, one of `states`.
  ///   - transitions: `transitions[s][x]` is f_s(s, x); every state × input pair must be present.
  ///   - outputs: `outputs[s]` is f_o(s); every state must be present.
  ///   - accepting: the accepting states (empty for a pure transducer).
  /// - Throws: ``FiniteStateMachineError`` naming the first missing, duplicate or unknown entry.
  public init(
    states: [String],
    inputs: [String],
    initialState: String,
    transitions: [String: [String: String]],
    outputs: [String: String],
    accepting: Set<String> = []
  ) throws(FiniteStateMachineError) {
    if states.isEmpty { throw .noStates }
    if inputs.isEmpty { throw .noInputs }
    var stateIndex: [String: Int] = [:]
    for (i, name) in states.enumerated() {
      if stateIndex.updateValue(i, forKey: name) != nil { throw .duplicateState(name) }
    }
    var inputIndex: [String: Int] = [:]
    for (i, name) in inputs.enumerated() {
      if inputIndex.updateValue(i, forKey: name) != nil { throw .duplicateInput(name) }
    }
    guard let initial = stateIndex[initialState] else { throw .unknownInitialState(initialState) }

    // Names in the tables that are not declared come first, sorted, so the error is deterministic.
    for name in transitions.keys.sorted() where stateIndex[name] == nil {
      throw .unknownStateInTransitions(name)
    }
    for name in outputs.keys.sorted() where stateIndex[name] == nil {
      throw .unknownStateInOutputs(name)
    }
    for name in accepting.sorted() where stateIndex[name] == nil {
      throw .unknownAcceptingState(name)
    }

    var table: [[Int]] = []
    table.reserveCapacity(states.count)
    var outputTable: [String] = []
    outputTable.reserveCapacity(states.count)
    for state in states {
      let row = transitions[state] ?? [:]
      for input in row.keys.sorted() where inputIndex[input] == nil {
        throw .unknownInputInTransitions(state: state, input: input)
      }
      var indices: [Int] = []
      indices.reserveCapacity(inputs.count)
      for input in inputs {
        guard let target = row[input] else { throw .missingTransition(state: state, input: input) }
        guard let targetIndex = stateIndex[target] else {
          throw .unknownTargetState(state: state, input: input, target: target)
        }
        indices.append(targetIndex)
      }
      table.append(indices)
      guard let output = outputs[state] else { throw .missingOutput(state: state) }
      outputTable.append(output)
    }
    self.init(
      unchecked: states, inputs: inputs, initialIndex: initial, table: table, outputTable: outputTable,
      acceptingTable: states.map { accepting.contains($0) })
  }

  /// Creates a machine from index tables that the caller guarantees to be complete and consistent.
  init(
    unchecked states: [String], inputs: [String], initialIndex: Int, table: [[Int]],
    outputTable: [String], acceptingTable: [Bool]
  ) {
    self.states = states
    self.inputs = inputs
    self.initialIndex = initialIndex
    self.table = table
    self.outputTable = outputTable
    self.acceptingTable = acceptingTable
    self.stateIndexByName = Dictionary(uniqueKeysWithValues: states.enumerated().map { ($1, $0) })
    self.inputIndexByName = Dictionary(uniqueKeysWithValues: inputs.enumerated().map { ($1, $0) })
  }

  public static func == (lhs: FiniteStateMachine, rhs: FiniteStateMachine) -> Bool {
    lhs.states == rhs.states && lhs.inputs == rhs.inputs && lhs.initialIndex == rhs.initialIndex
      && lhs.table == rhs.table && lhs.outputTable == rhs.outputTable
      && lhs.acceptingTable == rhs.acceptingTable
  }

  // MARK: - Names and indices

  /// The initial state s_0.
  public var initialState: String { states[initialIndex] }
  /// The set of accepting states.
  public var acceptingStates: Set<String> {
    Set(zip(states, acceptingTable).filter { $0.1 }.map { $0.0 })
  }
  /// The transition table as names: `transitions[s][x]` is f_s(s, x).
  public var transitions: [String: [String: String]] {
    var result: [String: [String: String]] = [:]
    for (s, row) in table.enumerated() {
      result[states[s]] = Dictionary(uniqueKeysWithValues: zip(inputs, row.map { states[$0] }))
    }
    return result
  }
  /// The output table as names: `outputs[s]` is f_o(s).
  public var outputs: [String: String] { Dictionary(uniqueKeysWithValues: zip(states, outputTable)) }

  /// The index of the state named `name` in ``states``, or nil.
  public func stateIndex(of name: String) -> Int? { stateIndexByName[name] }
  /// The index of the input named `name` in ``inputs``, or nil.
  public func inputIndex(of name: String) -> Int? { inputIndexByName[name] }

  // MARK: - StateMachine

  /// f_s(s, x): the next state. `state` and `input` must belong to this machine.
  public func transition(_ state: String, _ input: String) -> String {
    guard let s = stateIndexByName[state], let x = inputIndexByName[input] else {
      preconditionFailure(
        "FiniteStateMachine.transition: unknown state '\(state)' or input '\(input)'; use nextState(from:on:) to check names")
    }
    return states[table[s][x]]
  }

  /// f_o(s): the output of a state. `state` must belong to this machine.
  public func output(_ state: String) -> String {
    guard let s = stateIndexByName[state] else {
      preconditionFailure("FiniteStateMachine.output: unknown state '\(state)'")
    }
    return outputTable[s]
  }

  // MARK: - Checked use

  /// f_s(s, x) with both names checked.
  /// - Throws: ``FiniteStateMachineError/unknownState(_:)`` or ``FiniteStateMachineError/unknownInput(_:)``.
  public func nextState(from state: String, on input: String) throws(FiniteStateMachineError) -> String {
    guard let s = stateIndexByName[state] else { throw .unknownState(state) }
    guard let x = inputIndexByName[input] else { throw .unknownInput(input) }
    return states[table[s][x]]
  }

  /// Runs the machine on x_1 … x_n from s_0 (or `start`), checking every input name.
  ///
  /// - Returns: the state trajectory s_0 … s_n (n + 1 states) and the outputs y_1 … y_n (n outputs).
  /// - Throws: ``FiniteStateMachineError/unknownInput(_:)`` for the first input not in ``inputs``, or
  ///   ``FiniteStateMachineError/unknownState(_:)`` when `start` is not a state.
  public func run<Inputs: Sequence<String>>(
    _ inputs: Inputs, from start: String? = nil
  ) throws(FiniteStateMachineError) -> (states: [String], outputs: [String]) {
    var s = initialIndex
    if let start {
      guard let index = stateIndexByName[start] else { throw .unknownState(start) }
      s = index
    }
    var trajectory = [states[s]]
    var outputs: [String] = []
    for input in inputs {
      guard let x = inputIndexByName[input] else { throw .unknownInput(input) }
      s = table[s][x]
      trajectory.append(states[s])
      outputs.append(outputTable[s])
    }
    return (trajectory, outputs)
  }

  /// Whether the machine, started in s_0, ends in an accepting state after reading `inputs`.
  /// - Throws: ``FiniteStateMachineError/unknownInput(_:)`` for the first input not in ``inputs``.
  public func accepts<Inputs: Sequence<String>>(_ inputs: Inputs) throws(FiniteStateMachineError) -> Bool {
    var s = initialIndex
    for input in inputs {
      guard let x = inputIndexByName[input] else { throw .unknownInput(input) }
      s = table[s][x]
    }
    return acceptingTable[s]
  }

  /// Whether the machine accepts the string whose characters are the input names
  /// (for single-character alphabets such as "0", "1").
  /// - Throws: ``FiniteStateMachineError/unknownInput(_:)`` for the first character not in ``inputs``.
  public func accepts(_ string: String) throws(FiniteStateMachineError) -> Bool {
    try accepts(string.map { String($0) })
  }

  /// The indices of the states reachable from s_0, in breadth-first order (s_0 first, then by input order).
  public var reachableStateIndices: [Int] {
    var seen = [Bool](repeating: false, count: states.count)
    var order = [initialIndex]
    seen[initialIndex] = true
    var head = 0
    while head < order.count {
      for next in table[order[head]] where !seen[next] {
        seen[next] = true
        order.append(next)
      }
      head += 1
    }
    return order
  }
}

// MARK: - The chapter's example

extension FiniteStateMachine {
  /// The chapter's machine that tracks the parity of the number of zeros in a binary string.
  ///
  /// States S0 and S1 over inputs "0" and "1": reading "0" switches state, reading "1" stays. The machine
  /// starts in S1 (no zeros read: an even count), so every binary string ends in S1 if and only if it
  /// contains an even number of zeros. Each state outputs its own digit (S0 → "0", S1 → "1"), so y_t = "1"
  /// exactly when x_1 … x_t holds an even number of zeros; S1 is the accepting state.
  public static let parityOfZeros = FiniteStateMachine(
    unchecked: ["S0", "S1"],
    inputs: ["0", "1"],
    initialIndex: 1,
    table: [[1, 0], [0, 1]],
    outputTable: ["0", "1"],
    acceptingTable: [false, true])
}

// MARK: - Errors

/// A problem with a finite state machine's table or with the names given to it.
public enum FiniteStateMachineError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The machine has no states.
  case noStates
  /// The machine has no inputs.
  case noInputs
  /// A state name appears twice in the state list.
  case duplicateState(String)
  /// An input name appears twice in the input list.
  case duplicateInput(String)
  /// The initial state is not one of the states.
  case unknownInitialState(String)
  /// The transition table has a row for a state that is not declared.
  case unknownStateInTransitions(String)
  /// The transition table has an entry for an input that is not declared.
  case unknownInputInTransitions(state: String, input: String)
  /// The transition table has no entry f_s(state, input).
  case missingTransition(state: String, input: String)
  /// The transition f_s(state, input) leads to a state that is not declared.
  case unknownTargetState(state: String, input: String, target: String)
  /// The output table names a state that is not declared.
  case unknownStateInOutputs(String)
  /// The output table has no entry f_o(state).
  case missingOutput(state: String)
  /// An accepting state is not declared.
  case unknownAcceptingState(String)
  /// A state name given at run time is not a state of the machine.
  case unknownState(String)
  /// An input name given at run time is not in the machine's alphabet.
  case unknownInput(String)
  /// Two machines compared for equivalence read different input alphabets.
  case inputAlphabetMismatch(left: [String], right: [String])

  public var description: String {
    switch self {
    case .noStates: "finite state machine has no states"
    case .noInputs: "finite state machine has no inputs"
    case .duplicateState(let s): "state '\(s)' is listed more than once"
    case .duplicateInput(let x): "input '\(x)' is listed more than once"
    case .unknownInitialState(let s): "initial state '\(s)' is not one of the states"
    case .unknownStateInTransitions(let s): "transition table has a row for unknown state '\(s)'"
    case .unknownInputInTransitions(let s, let x):
      "transition table row '\(s)' has an entry for unknown input '\(x)'"
    case .missingTransition(let s, let x): "missing transition from state '\(s)' on input '\(x)'"
    case .unknownTargetState(let s, let x, let t):
      "transition from state '\(s)' on input '\(x)' leads to unknown state '\(t)'"
    case .unknownStateInOutputs(let s): "output table names unknown state '\(s)'"
    case .missingOutput(let s): "missing output for state '\(s)'"
    case .unknownAcceptingState(let s): "accepting state '\(s)' is not one of the states"
    case .unknownState(let s): "unknown state '\(s)'"
    case .unknownInput(let x): "unknown input '\(x)'"
    case .inputAlphabetMismatch(let l, let r):
      "machines read different inputs: [\(l.joined(separator: ", "))] vs [\(r.joined(separator: ", "))]"
    }
  }
}

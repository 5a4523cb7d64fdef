/// A state machine (S, X, Y, s_0, f_s, f_o), as defined in the chapter's section "State machines".
///
/// Starting from ``initialState`` (s_0), the machine computes for t ≥ 1
///
///     s_t = f_s(s_{t-1}, x_t)      (``transition(_:_:)``)
///     y_t = f_o(s_t)               (``output(_:)``)
///
/// and so *transduces* an input sequence x_1 … x_n into the output sequence y_1 … y_n. Every recurrent
/// network in Recur conforms, which is the streaming view of a trained network: feed one input at a time,
/// carry the state.
public protocol StateMachine<Input, Output> {
  /// The set of states 𝒮.
  associatedtype State
  /// The set of inputs 𝒳.
  associatedtype Input
  /// The set of outputs 𝒴.
  associatedtype Output

  /// The initial state s_0.
  var initialState: State { get }
  /// The transition function f_s(s_{t-1}, x_t) → s_t.
  func transition(_ state: State, _ input: Input) -> State
  /// The output function f_o(s_t) → y_t.
  func output(_ state: State) -> Output
}

extension StateMachine {
  /// One step of streaming use: s_t = f_s(s_{t-1}, x_t), y_t = f_o(s_t).
  /// - Returns: the new state s_t and its output y_t.
  public func step(_ state: State, _ input: Input) -> (state: State, output: Output) {
    let next = transition(state, input)
    return (next, output(next))
  }

  /// Transduces x_1 … x_n into y_1 … y_n, starting from s_0 (or `state` when given):
  /// y_t = f_o(f_s(… f_s(s_0, x_1) …, x_t)).
  public func transduce<Inputs: Sequence<Input>>(_ inputs: Inputs, from state: State? = nil) -> [Output] {
    var s = state ?? initialState
    var outputs: [Output] = []
    outputs.reserveCapacity(inputs.underestimatedCount)
    for x in inputs {
      s = transition(s, x)
      outputs.append(output(s))
    }
    return outputs
  }

  /// The final state s_n after reading the whole input sequence from s_0 (or `state` when given).
  public func finalState<Inputs: Sequence<Input>>(after inputs: Inputs, from state: State? = nil) -> State {
    var s = state ?? initialState
    for x in inputs { s = transition(s, x) }
    return s
  }
}

/// A state machine built from closures: give s_0, f_s and f_o directly.
///
/// Also wraps any other machine with the same state, input and output types, which hides its concrete
/// type (for example to keep a list of machines).
public struct AnyStateMachine<State, Input, Output>: StateMachine {
  /// The initial state s_0.
  public let initialState: State
  private let transitionFunction: (State, Input) -> State
  private let outputFunction: (State) -> Output

  /// A machine with initial state s_0, transition f_s and output f_o.
  ///
  /// - Parameters:
  ///   - initialState: s_0.
  ///   - transition: f_s(s_{t-1}, x_t) → s_t.
  ///   - output: f_o(s_t) → y_t.
  public init(
    initialState: State,
    transition: @escaping (State, Input) -> State,
    output: @escaping (State) -> Output
  ) {
    self.initialState = initialState
    self.transitionFunction = transition
    self.outputFunction = output
  }

  /// Wraps `machine`, forwarding s_0, f_s and f_o to it.
  public init<Machine: StateMachine>(_ machine: Machine)
  where Machine.State == State, Machine.Input == Input, Machine.Output == Output {
    self.init(initialState: machine.initialState, transition: machine.transition, output: machine.output)
  }

  public func transition(_ state: State, _ input: Input) -> State { transitionFunction(state, input) }
  public func output(_ state: State) -> Output { outputFunction(state) }
}

/// Two machines in series: the first machine's output y_t is the second machine's input at the same
/// step.
///
/// The state is the pair of states (s¹, s²). One step reads x_t into the first machine, computes its
/// output y¹_t = f¹_o(s¹_t), feeds y¹_t into the second machine and outputs y²_t = f²_o(s²_t).
public struct Cascade<First: StateMachine, Second: StateMachine>: StateMachine
where First.Output == Second.Input {
  public typealias State = (First.State, Second.State)
  public typealias Input = First.Input
  public typealias Output = Second.Output

  /// The machine that reads the input.
  public let first: First
  /// The machine that reads the first machine's output.
  public let second: Second

  /// `first` feeding `second`.
  public init(_ first: First, _ second: Second) {
    self.first = first
    self.second = second
  }

  /// The pair of initial states (s¹_0, s²_0).
  public var initialState: State { (first.initialState, second.initialState) }

  /// (f¹_s(s¹, x), f²_s(s², f¹_o(f¹_s(s¹, x)))).
  public func transition(_ state: State, _ input: Input) -> State {
    let (nextFirst, middle) = first.step(state.0, input)
    return (nextFirst, second.transition(state.1, middle))
  }

  /// f²_o(s²): the second machine's output.
  public func output(_ state: State) -> Output { second.output(state.1) }
}

/// Two machines side by side on the same input; the output is the pair of their outputs.
public struct Parallel<First: StateMachine, Second: StateMachine>: StateMachine
where First.Input == Second.Input {
  public typealias State = (First.State, Second.State)
  public typealias Input = First.Input
  public typealias Output = (First.Output, Second.Output)

  /// The machine giving the first output component.
  public let first: First
  /// The machine giving the second output component.
  public let second: Second

  /// `first` and `second` reading the same input.
  public init(_ first: First, _ second: Second) {
    self.first = first
    self.second = second
  }

  /// The pair of initial states (s¹_0, s²_0).
  public var initialState: State { (first.initialState, second.initialState) }

  /// (f¹_s(s¹, x), f²_s(s², x)).
  public func transition(_ state: State, _ input: Input) -> State {
    (first.transition(state.0, input), second.transition(state.1, input))
  }

  /// (f¹_o(s¹), f²_o(s²)).
  public func output(_ state: State) -> Output { (first.output(state.0), second.output(state.1)) }
}

extension Cascade: Sendable where First: Sendable, Second: Sendable {}
extension Parallel: Sendable where First: Sendable, Second: Sendable {}

extension StateMachine {
  /// This machine feeding `next`: ``Cascade`` of `self` then `next`.
  public func cascade<Next: StateMachine>(_ next: Next) -> Cascade<Self, Next> where Next.Input == Output {
    Cascade(self, next)
  }

  /// This machine and `other` on the same input: ``Parallel`` of `self` and `other`.
  public func parallel<Other: StateMachine>(_ other: Other) -> Parallel<Self, Other> where Other.Input == Input {
    Parallel(self, other)
  }

  /// This machine with its outputs passed through `transform`: f_o becomes `transform` ∘ f_o.
  public func mapOutput<NewOutput>(_ transform: @escaping (Output) -> NewOutput) -> AnyStateMachine<State, Input, NewOutput> {
    AnyStateMachine(initialState: initialState, transition: transition, output: { transform(output($0)) })
  }
}

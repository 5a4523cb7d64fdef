/// One input x_t to a ``RecurrentNetwork`` used as a state machine: a token id for networks with an
/// embedding, a vector of I features otherwise. Integer and array literals convert directly.
public enum NetworkInput<Scalar: RecurScalar>: Sendable, Equatable, ExpressibleByIntegerLiteral,
  ExpressibleByArrayLiteral
{
  /// A token id in 0 ..< V, for a network with an embedding.
  case token(Int)
  /// A vector of I features, for a network without an embedding.
  case vector([Scalar])

  /// The token input `value`.
  public init(integerLiteral value: Int) { self = .token(value) }
  /// The vector input of the given features.
  public init(arrayLiteral elements: Scalar...) { self = .vector(elements) }
}

/// Every network is a state machine (𝒮, 𝒳, 𝒴, s_0, f_s, f_o): the streaming, one-step-at-a-time view of the
/// chapter's RNN. States hold one sequence (B = 1).
extension RecurrentNetwork: StateMachine {
  public typealias State = RecurrentState<Scalar>
  public typealias Input = NetworkInput<Scalar>
  public typealias Output = [Scalar]

  /// s_0: the zero state.
  public var initialState: RecurrentState<Scalar> { zeroState(batch: 1) }

  /// f_s: s_t from s_{t-1} and x_t through every recurrent layer. (A convenience that builds its own
  /// workspace; for long streams use a ``NetworkWorkspace`` with ``outputs(for:initialState:workspace:)``.)
  public func transition(_ state: RecurrentState<Scalar>, _ input: NetworkInput<Scalar>) -> RecurrentState<Scalar> {
    let x: SequenceBatch<Scalar>.Inputs
    switch input {
    case .token(let id):
      precondition(
        configuration.embeddingSize != nil && id >= 0 && id < configuration.inputSize,
        "token \(id) does not fit this network's input")
      x = .tokens([Int32(id)])
    case .vector(let v):
      precondition(
        configuration.embeddingSize == nil && v.count == configuration.inputSize,
        "input vector of \(v.count) features does not fit this network's \(configuration.inputSize)")
      x = .vectors(v, features: v.count)
    }
    precondition(
      !configuration.bidirectional,
      "a bidirectional network cannot run one step at a time: its reverse direction reads the steps after t")
    let batch = try! SequenceBatch<Scalar>(steps: 1, batchSize: 1, inputs: x, targets: .classes([-1]))
    let ws = NetworkWorkspace<Scalar>()
    withStackInput(batch, workspace: ws, dropout: nil) { p, tokens in
      stack.forward(
        input: p, steps: 1, batch: 1, lengths: nil, initialState: state, workspace: ws.stack, dropout: nil,
        tokens: tokens)
    }
    return stack.finalState(steps: 1, batch: 1, workspace: ws.stack)
  }

  /// f_o: y_t = f_o(W^o s_t + W^o_0), from the top layer's h.
  public func output(_ state: RecurrentState<Scalar>) -> [Scalar] {
    let V = configuration.outputSize, H = configuration.hiddenSize
    var z = [Scalar](repeating: 0, count: V)
    var g = z
    z.withUnsafeMutableBufferPointer { zp in
      headBias.withPointer { zp.baseAddress!.update(from: $0, count: V) }
      headWeight.withPointer { w in
        state.h[state.h.count - 1].withPointer { h in
          Scalar.gemv(transposeA: false, m: V, n: H, alpha: 1, a: w, lda: H, x: h, beta: 1, y: zp.baseAddress!)
        }
      }
      g.withUnsafeMutableBufferPointer { applyOutputActivation(rows: 1, z: zp.baseAddress!, g: $0.baseAddress!) }
    }
    return g
  }
}

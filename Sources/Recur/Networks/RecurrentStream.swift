/// A live stream through a trained network over vector inputs: feed one step x_t, read one output
/// y_t = f_o(W^o s_t + W^o_0), the state s_t carried to the next step — the chapter's state-machine view,
/// s_t = f_s(s_{t-1}, x_t), for readings that arrive one at a time.
///
/// Unlike ``StateMachine/step(_:_:)``, which builds its scratch buffers on every call, a stream keeps one
/// workspace, one state and one output: after the first step, a step allocates nothing (the buffers have
/// their size; the state is updated in place). Any output head works (identity, sigmoid, tanh, softmax).
///
/// A bidirectional network cannot stream (its reverse direction needs the steps that have not arrived), nor
/// can a token model here (``TextSampler`` streams those).
public final class RecurrentStream<Scalar: RecurScalar> {
  /// The network that runs the stream.
  public let network: RecurrentNetwork<Scalar>
  /// s_t after the last step (s_0, zeros, before the first step or after ``reset()``).
  public private(set) var state: RecurrentState<Scalar>
  /// y_t of the last step, V values (zeros before the first step).
  public private(set) var output: [Scalar]
  /// The number of steps since the start or the last ``reset()``.
  public private(set) var steps = 0
  private let workspace = NetworkWorkspace<Scalar>()
  private let input = Buffer<Scalar>()

  /// A stream from the zero state.
  ///
  /// - Throws: ``ModelError`` for a bidirectional network or one that reads token ids.
  public init(network: RecurrentNetwork<Scalar>) throws {
    guard !network.configuration.bidirectional else {
      throw ModelError("a bidirectional network cannot stream: its reverse direction needs the steps that have not arrived yet")
    }
    guard network.configuration.embeddingSize == nil else {
      throw ModelError("this network reads token ids; a stream reads vectors (sample token models with TextSampler)")
    }
    self.network = network
    state = network.zeroState(batch: 1)
    output = Array(repeating: 0, count: network.configuration.outputSize)
    input.reserve(network.configuration.inputSize)
  }

  /// Back to s_0 (zeros), as if the stream had just started.
  public func reset() {
    for l in state.h.indices {
      state.h[l].withMutablePointer { $0.update(repeating: 0, count: network.configuration.hiddenSize) }
    }
    for l in state.c.indices {
      state.c[l].withMutablePointer { $0.update(repeating: 0, count: network.configuration.hiddenSize) }
    }
    for k in output.indices { output[k] = 0 }
    steps = 0
  }

  /// Takes one step: s_t = f_s(s_{t-1}, x_t), y_t = f_o(W^o s_t + W^o_0), left in ``output`` and returned.
  ///
  /// - Parameter x: x_t, I numbers.
  /// - Returns: y_t, V numbers (the same values as ``output``; to step without allocating, let the result go
  ///   and read ``output``, which a kept copy would make the next step copy).
  /// - Throws: ``ModelError`` when x has the wrong size or a number that is not finite.
  @discardableResult
  public func step<C: Collection>(_ x: C) throws -> [Scalar] where C.Element == Scalar {
    let I = network.configuration.inputSize, H = network.configuration.hiddenSize
    guard x.count == I else { throw ModelError("a step has \(x.count) features but the network reads \(I)") }
    let p = input.pointer
    for (i, v) in x.enumerated() {
      guard v.isFinite else { throw ModelError("feature \(i) of the step is \(v), not a finite number") }
      p[i] = v
    }
    let stack = network.stack
    stack.forward(
      input: UnsafePointer(p), steps: 1, batch: 1, lengths: nil, initialState: state, workspace: workspace.stack,
      dropout: nil)
    // s_1 of each layer's cache becomes the carried state (row block 1; block 0 was s_0).
    for l in state.h.indices {
      let cache = workspace.stack.caches[l]
      state.h[l].withMutablePointer { $0.update(from: cache.h.pointer + H, count: H) }
      if !state.c.isEmpty { state.c[l].withMutablePointer { $0.update(from: cache.c.pointer + H, count: H) } }
    }
    network.head(rows: 1, top: UnsafePointer(stack.topOutputs(batch: 1, workspace: workspace.stack)), workspace: workspace)
    output.withUnsafeMutableBufferPointer { g in
      network.applyOutputActivation(rows: 1, z: workspace.logits.pointer, g: g.baseAddress!)
    }
    steps += 1
    return output
  }
}

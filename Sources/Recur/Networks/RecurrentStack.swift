/// The state s_t of a stack of recurrent layers: for each layer its output state h (B × H) and, for the
/// LSTM, its memory cell c (B × H).
public struct RecurrentState<Scalar: RecurScalar>: Sendable, Equatable {
  /// h for each layer, bottom first, each B × H.
  public var h: [Tensor<Scalar>]
  /// c for each layer of an LSTM (empty for other cells).
  public var c: [Tensor<Scalar>]

  /// A state from each layer's h and (for the LSTM) c, bottom first.
  public init(h: [Tensor<Scalar>], c: [Tensor<Scalar>] = []) {
    self.h = h
    self.c = c
  }

  /// The zero state s_0 for `layers` layers of B × H.
  public static func zeros(layers: Int, batch: Int, hidden: Int, memoryCell: Bool) -> Self {
    let z = Tensor<Scalar>(shape: [batch, hidden])
    return Self(h: Array(repeating: z, count: layers), c: memoryCell ? Array(repeating: z, count: layers) : [])
  }
}

/// L recurrent layers of the same cell, each layer's output states feeding the next layer's inputs; with
/// optional dropout between layers when training (as PyTorch's `dropout` argument of `nn.LSTM`).
///
/// Parameter names are PyTorch's for `nn.RNN`/`nn.GRU`/`nn.LSTM`: `weight_ih_l{k}`, `weight_hh_l{k}`,
/// `bias_ih_l{k}`, `bias_hh_l{k}`.
public struct RecurrentStack<Scalar: RecurScalar>: Sendable, Equatable, Parameterized {
  /// The layers, bottom first.
  public var layers: [RecurrentLayer<Scalar>]
  /// The probability of zeroing each input of layers 1 … L−1 during training.
  public var dropout: Double

  /// A stack initialized as PyTorch does (uniform in ±1/√H).
  public init(
    kind: CellKind, inputSize: Int, hiddenSize: Int, layers: Int, dropout: Double = 0,
    generator: inout SeededGenerator
  ) {
    precondition(layers > 0, "a stack needs at least one layer")
    var built: [RecurrentLayer<Scalar>] = []
    for l in 0..<layers {
      built.append(
        RecurrentLayer(
          kind: kind, inputSize: l == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize, generator: &generator))
    }
    self.layers = built
    self.dropout = dropout
  }

  /// The cell of every layer.
  public var kind: CellKind { layers[0].kind }
  /// I, the input size of the bottom layer.
  public var inputSize: Int { layers[0].inputSize }
  /// H, the state size of every layer (m in the chapter).
  public var hiddenSize: Int { layers[0].hiddenSize }

  public func forEachParameter(_ body: (String, Tensor<Scalar>) throws -> Void) rethrows {
    for (k, layer) in layers.enumerated() {
      try body("weight_ih_l\(k)", layer.weightIH)
      try body("weight_hh_l\(k)", layer.weightHH)
      try body("bias_ih_l\(k)", layer.biasIH)
      try body("bias_hh_l\(k)", layer.biasHH)
    }
  }

  public mutating func updateEachParameter(_ body: (String, inout Tensor<Scalar>) throws -> Void) rethrows {
    for k in layers.indices {
      try body("weight_ih_l\(k)", &layers[k].weightIH)
      try body("weight_hh_l\(k)", &layers[k].weightHH)
      try body("bias_ih_l\(k)", &layers[k].biasIH)
      try body("bias_hh_l\(k)", &layers[k].biasHH)
    }
  }
}

/// The reusable workspace of a ``RecurrentStack``: one per-layer cache of the forward pass, dropout masks, and the
/// gradients flowing between layers.
public final class StackWorkspace<Scalar: RecurScalar> {
  var caches: [LayerCache<Scalar>] = []
  /// Layer l's (dropped-out) input for l ≥ 1, and its mask (0 or 1/(1 − p)).
  var droppedInputs: [Buffer<Scalar>] = []
  var masks: [Buffer<Scalar>] = []
  var usedDropout: [Bool] = []
  /// dL/d(input of layer l), T·B × I_l.
  var inputGradients: [Buffer<Scalar>] = []
  /// Squared ‖δ^{s_t}‖ per layer and step, when recorded.
  var deltaNorms: [[Double]] = []

  /// An empty workspace; its buffers grow on first use.
  public init() {}

  func prepare(layers: Int) {
    while caches.count < layers {
      caches.append(LayerCache())
      droppedInputs.append(Buffer())
      masks.append(Buffer())
      inputGradients.append(Buffer())
      usedDropout.append(false)
    }
  }
}

extension RecurrentStack {
  /// The input pointer that layer `l` read in the last forward pass.
  func layerInput(_ l: Int, input: UnsafePointer<Scalar>, batch: Int, workspace: StackWorkspace<Scalar>)
    -> UnsafePointer<Scalar>
  {
    if l == 0 { return input }
    if workspace.usedDropout[l] { return UnsafePointer(workspace.droppedInputs[l].pointer) }
    return UnsafePointer(workspace.caches[l - 1].h.pointer + batch * hiddenSize)
  }

  /// Runs all layers over T steps of B sequences (inputs time-major, T·B × I). The top layer's states
  /// h_1 … h_T are then at ``topOutputs(batch:workspace:)``. With `tokens`, the bottom layer reads its
  /// inputs through the embedding (``EmbeddedTokens``) and `input` is not read.
  @_specialize(where Scalar == Float)
  func forward(
    input: UnsafePointer<Scalar>, steps: Int, batch: Int, lengths: [Int]?, initialState: RecurrentState<Scalar>?,
    workspace: StackWorkspace<Scalar>, dropout masks: DropoutMasks?, tokens: EmbeddedTokens<Scalar>? = nil
  ) {
    workspace.prepare(layers: layers.count)
    let n = steps * batch * hiddenSize
    for (l, layer) in layers.enumerated() {
      let useDropout = l > 0 && dropout > 0 && masks != nil
      workspace.usedDropout[l] = useDropout
      if useDropout, let masks {
        Dropout.forward(
          masks: masks, layer: l, steps: steps, batch: batch, width: hiddenSize, probability: dropout,
          input: workspace.caches[l - 1].h.pointer + batch * hiddenSize, mask: workspace.masks[l].reserve(n),
          output: workspace.droppedInputs[l].reserve(n))
      }
      let x = layerInput(l, input: input, batch: batch, workspace: workspace)
      let h0 = initialState?.h[l], c0 = initialState?.c.isEmpty == false ? initialState?.c[l] : nil
      withOptionalPointer(h0) { h0p in
        withOptionalPointer(c0) { c0p in
          layer.forward(
            input: x, steps: steps, batch: batch, lengths: lengths, initialH: h0p, initialC: c0p,
            cache: workspace.caches[l], tokens: l == 0 ? tokens : nil)
        }
      }
    }
  }

  /// h_1 … h_T of the top layer after a forward pass, T·B × H.
  func topOutputs(batch: Int, workspace: StackWorkspace<Scalar>) -> UnsafeMutablePointer<Scalar> {
    workspace.caches[layers.count - 1].h.pointer + batch * hiddenSize
  }

  /// The final state s_T (each sequence's own last state) after a forward pass.
  @_specialize(where Scalar == Float)
  func finalState(steps: Int, batch: Int, workspace: StackWorkspace<Scalar>) -> RecurrentState<Scalar> {
    let BH = batch * hiddenSize
    var state = RecurrentState<Scalar>(h: [], c: [])
    for l in layers.indices {
      let cache = workspace.caches[l]
      state.h.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.h.pointer + steps * BH, count: BH))))
      if kind.cell.hasMemoryCell {
        state.c.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.c.pointer + steps * BH, count: BH))))
      }
    }
    return state
  }

  /// Back-propagation through time through every layer, top first.
  ///
  /// - Parameters:
  ///   - outputGradient: ∂L_t/∂h_t of the top layer, T·B × H.
  ///   - finalStateGradient: dL/ds_T from a loss on the final state, or nil.
  ///   - gradient: receives the parameter gradients (accumulated).
  ///   - inputGradient: if not nil, receives dL/dx_t, T·B × I (overwritten).
  ///   - recordDeltaNorms: keep ‖δ^{s_t}‖² per layer and step in the workspace.
  ///   - tokens: the bottom layer's token inputs, as given to the forward pass (then `input` is not read).
  ///   - embeddingGradient: with `tokens`, receives dL/dE (V × I, accumulated) in place of `inputGradient`.
  /// - Returns: dL/ds_0, the gradient with respect to the initial state.
  @discardableResult
  @_specialize(where Scalar == Float)
  func backward(
    input: UnsafePointer<Scalar>, steps: Int, batch: Int, lengths: [Int]?,
    outputGradient: UnsafePointer<Scalar>, finalStateGradient: RecurrentState<Scalar>?,
    workspace: StackWorkspace<Scalar>, gradient: inout RecurrentStack, inputGradient: UnsafeMutablePointer<Scalar>?,
    recordDeltaNorms: Bool = false, tokens: EmbeddedTokens<Scalar>? = nil,
    embeddingGradient: UnsafeMutablePointer<Scalar>? = nil
  ) -> RecurrentState<Scalar> {
    let BH = batch * hiddenSize
    var initialGradient = RecurrentState<Scalar>(h: [], c: [])
    if recordDeltaNorms {
      workspace.deltaNorms = Array(repeating: Array(repeating: 0, count: steps), count: layers.count)
    }
    for l in layers.indices.reversed() {
      let dOut: UnsafePointer<Scalar> =
        l == layers.count - 1 ? outputGradient : UnsafePointer(workspace.inputGradients[l + 1].pointer)
      let x = layerInput(l, input: input, batch: batch, workspace: workspace)
      let dIn: UnsafeMutablePointer<Scalar>? =
        l > 0 ? workspace.inputGradients[l].reserve(steps * BH) : inputGradient
      let dhT = finalStateGradient?.h[l]
      let dcT = finalStateGradient?.c.isEmpty == false ? finalStateGradient?.c[l] : nil
      var norms = recordDeltaNorms ? workspace.deltaNorms[l] : []
      withOptionalPointer(dhT) { dhp in
        withOptionalPointer(dcT) { dcp in
          norms.withUnsafeMutableBufferPointer { np in
            layers[l].backward(
              input: x, steps: steps, batch: batch, lengths: lengths, outputGradient: dOut, finalHGradient: dhp,
              finalCGradient: dcp, cache: workspace.caches[l], gradient: &gradient.layers[l], inputGradient: dIn,
              deltaNorms: recordDeltaNorms ? np.baseAddress : nil, tokens: l == 0 ? tokens : nil,
              embeddingGradient: l == 0 ? embeddingGradient : nil)
          }
        }
      }
      if recordDeltaNorms { workspace.deltaNorms[l] = norms }
      if l > 0, workspace.usedDropout[l], let dIn {
        Dropout.backward(count: steps * BH, mask: workspace.masks[l].pointer, gradient: dIn)
      }
      let cache = workspace.caches[l]
      initialGradient.h.insert(
        Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.dh.pointer, count: BH))),
        at: 0)
      if kind.cell.hasMemoryCell {
        initialGradient.c.insert(
          Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.dc.pointer, count: BH))),
          at: 0)
      }
    }
    return initialGradient
  }
}

/// Calls `body` with a pointer to the tensor's elements, or nil when there is no tensor.
func withOptionalPointer<S: RecurScalar, R>(_ tensor: Tensor<S>?, _ body: (UnsafePointer<S>?) throws -> R) rethrows -> R {
  if let tensor { return try tensor.withPointer { try body($0) } }
  return try body(nil)
}

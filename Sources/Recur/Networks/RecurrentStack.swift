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
/// `bias_ih_l{k}`, `bias_hh_l{k}`, and for a bidirectional stack the reverse direction's
/// `weight_ih_l{k}_reverse` and so on.
///
/// **Bidirectional** (PyTorch's `bidirectional=True`): each layer also runs a second layer of its own over
/// each sequence backwards, from the sequence's own last valid step n to its first (as
/// `pack_padded_sequence` does), and the layer's output at step t is [h^→_t, h^←_t] (2H wide), which the
/// next layer reads. States and final states list, per layer, the forward direction then the reverse
/// (PyTorch's `h_n[2l + d]`).
public struct RecurrentStack<Scalar: RecurScalar>: Sendable, Equatable, Parameterized {
  /// The layers, bottom first.
  public var layers: [RecurrentLayer<Scalar>]
  /// The reverse-direction layers of a bidirectional stack, bottom first; empty for one direction.
  public var reverseLayers: [RecurrentLayer<Scalar>]
  /// The probability of zeroing each input of layers 1 … L−1 during training, at every step anew.
  public var dropout: Double
  /// The probability of zeroing each input of layers 1 … L−1 during training with one mask per sequence
  /// shared by every step (locked dropout, ``Regularization/hiddenDropout``).
  public var hiddenDropout: Double = 0
  /// The probability of zeroing each element of every layer's W_hh during training, one mask per batch
  /// (``Regularization/weightDrop``).
  public var weightDrop: Double = 0

  /// A stack initialized as PyTorch does (uniform in ±1/√H).
  public init(
    kind: CellKind, inputSize: Int, hiddenSize: Int, layers: Int, dropout: Double = 0, bidirectional: Bool = false,
    generator: inout SeededGenerator
  ) {
    precondition(layers > 0, "a stack needs at least one layer")
    var built: [RecurrentLayer<Scalar>] = [], reverse: [RecurrentLayer<Scalar>] = []
    let width = bidirectional ? 2 * hiddenSize : hiddenSize
    for l in 0..<layers {
      built.append(
        RecurrentLayer(kind: kind, inputSize: l == 0 ? inputSize : width, hiddenSize: hiddenSize, generator: &generator))
      if bidirectional {
        reverse.append(
          RecurrentLayer(kind: kind, inputSize: l == 0 ? inputSize : width, hiddenSize: hiddenSize, generator: &generator))
      }
    }
    self.layers = built
    self.reverseLayers = reverse
    self.dropout = dropout
  }

  /// Whether each layer also reads the sequences backwards.
  public var isBidirectional: Bool { !reverseLayers.isEmpty }
  /// The number of directions, 1 or 2.
  public var directions: Int { isBidirectional ? 2 : 1 }
  /// The width of each layer's output: H, or 2H when bidirectional.
  public var outputSize: Int { hiddenSize * directions }

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
      if isBidirectional {
        let r = reverseLayers[k]
        try body("weight_ih_l\(k)_reverse", r.weightIH)
        try body("weight_hh_l\(k)_reverse", r.weightHH)
        try body("bias_ih_l\(k)_reverse", r.biasIH)
        try body("bias_hh_l\(k)_reverse", r.biasHH)
      }
    }
  }

  public mutating func updateEachParameter(_ body: (String, inout Tensor<Scalar>) throws -> Void) rethrows {
    for k in layers.indices {
      try body("weight_ih_l\(k)", &layers[k].weightIH)
      try body("weight_hh_l\(k)", &layers[k].weightHH)
      try body("bias_ih_l\(k)", &layers[k].biasIH)
      try body("bias_hh_l\(k)", &layers[k].biasHH)
      if isBidirectional {
        try body("weight_ih_l\(k)_reverse", &reverseLayers[k].weightIH)
        try body("weight_hh_l\(k)_reverse", &reverseLayers[k].weightHH)
        try body("bias_ih_l\(k)_reverse", &reverseLayers[k].biasIH)
        try body("bias_hh_l\(k)_reverse", &reverseLayers[k].biasHH)
      }
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
  /// With weight drop, per layer and direction (index 2l + d): M ⊙ W_hh and M, G·H × H each.
  var droppedWeights: [Buffer<Scalar>] = []
  var weightMasks: [Buffer<Scalar>] = []
  var usedWeightDrop = false
  /// dL/d(input of layer l), T·B × I_l.
  var inputGradients: [Buffer<Scalar>] = []
  /// Squared ‖δ^{s_t}‖ per layer and step, when recorded.
  var deltaNorms: [[Double]] = []
  /// Bidirectional stacks: the reverse layers' caches, each layer's input reversed within each sequence's
  /// length, each layer's output [h^→_t, h^←_t] (T·B × 2H), and the backward pass's scratch.
  var reverseCaches: [LayerCache<Scalar>] = []
  var reversedInputs: [Buffer<Scalar>] = []
  var outputs: [Buffer<Scalar>] = []
  let forwardGradient = Buffer<Scalar>()
  let reverseGradient = Buffer<Scalar>()
  let reverseInputGradient = Buffer<Scalar>()

  /// An empty workspace; its buffers grow on first use.
  public init() {}

  func prepare(layers: Int) {
    while caches.count < layers {
      caches.append(LayerCache())
      droppedInputs.append(Buffer())
      masks.append(Buffer())
      inputGradients.append(Buffer())
      usedDropout.append(false)
      reverseCaches.append(LayerCache())
      reversedInputs.append(Buffer())
      outputs.append(Buffer())
      for _ in 0..<2 {
        droppedWeights.append(Buffer())
        weightMasks.append(Buffer())
      }
    }
  }

  /// The dropped W_hh of layer l, direction d, of the last forward pass (nil without weight drop).
  func droppedWeight(layer l: Int, direction d: Int) -> DroppedWeight<Scalar>? {
    guard usedWeightDrop else { return nil }
    return DroppedWeight(
      weight: UnsafePointer(droppedWeights[2 * l + d].pointer), mask: UnsafePointer(weightMasks[2 * l + d].pointer))
  }
}

extension RecurrentStack {
  /// The input pointer that layer `l` read in the last forward pass.
  func layerInput(_ l: Int, input: UnsafePointer<Scalar>, batch: Int, workspace: StackWorkspace<Scalar>)
    -> UnsafePointer<Scalar>
  {
    if l == 0 { return input }
    if workspace.usedDropout[l] { return UnsafePointer(workspace.droppedInputs[l].pointer) }
    return UnsafePointer(layerOutputs(l - 1, batch: batch, workspace: workspace))
  }

  /// Layer l's outputs after a forward pass, T·B × ``outputSize``: h_1 … h_T, or [h^→_t, h^←_t].
  func layerOutputs(_ l: Int, batch: Int, workspace: StackWorkspace<Scalar>) -> UnsafeMutablePointer<Scalar> {
    isBidirectional ? workspace.outputs[l].pointer : workspace.caches[l].h.pointer + batch * hiddenSize
  }

  /// Copies T·B rows of `width` from `source` to `target` with each sequence's first n_b steps in reverse
  /// order (row t of sequence b from row n_b − 1 − t) and zeros beyond n_b: a sequence read backwards from
  /// its own last valid step, as `pack_padded_sequence` does. With `accumulate`, adds instead of copying
  /// (and leaves the padded rows).
  static func reverseWithinLengths(
    _ source: UnsafePointer<Scalar>, into target: UnsafeMutablePointer<Scalar>, width: Int, steps T: Int, batch B: Int,
    lengths: [Int]?, accumulate: Bool = false
  ) {
    for b in 0..<B {
      let n = lengths?[b] ?? T
      for t in 0..<T {
        let to = target + (t * B + b) * width
        if t < n {
          let from = source + ((n - 1 - t) * B + b) * width
          if accumulate { for j in 0..<width { to[j] += from[j] } } else { to.update(from: from, count: width) }
        } else if !accumulate {
          to.update(repeating: 0, count: width)
        }
      }
    }
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
    let n = steps * batch * outputSize, D = directions, H = hiddenSize, B = batch, BH = batch * hiddenSize
    workspace.usedWeightDrop = weightDrop > 0 && masks != nil
    for (l, layer) in layers.enumerated() {
      // Plain dropout draws a mask at every step; locked dropout one per sequence (the two are exclusive).
      let p = dropout > 0 ? dropout : hiddenDropout
      let useDropout = l > 0 && p > 0 && masks != nil
      workspace.usedDropout[l] = useDropout
      if useDropout, let masks {
        Dropout.forward(
          masks: masks, slot: .layerInput(l), steps: steps, batch: batch, width: outputSize, probability: p,
          locked: dropout == 0, input: layerOutputs(l - 1, batch: batch, workspace: workspace),
          mask: workspace.masks[l].reserve(n), output: workspace.droppedInputs[l].reserve(n))
      }
      if workspace.usedWeightDrop, let masks {
        // M ⊙ W_hh for this batch, one mask per layer and direction shared by every step and sequence.
        for d in 0..<D {
          let weight = d == 0 ? layer.weightHH : reverseLayers[l].weightHH
          let count = weight.count
          let mask = workspace.weightMasks[2 * l + d].reserve(count)
          let dropped = workspace.droppedWeights[2 * l + d].reserve(count)
          weight.withPointer { w in
            masks.fillShared(
              mask, slot: .recurrentWeight(layer: l, direction: d), count: count, probability: weightDrop, weight: w,
              dropped: dropped)
          }
        }
      }
      let x = layerInput(l, input: input, batch: batch, workspace: workspace)
      for d in 0..<D {
        let h0 = initialState?.h[l * D + d], c0 = initialState?.c.isEmpty == false ? initialState?.c[l * D + d] : nil
        var xd = x
        if d == 1 {
          // The reverse direction reads each sequence from its own last valid step back to its first.
          let reversed = workspace.reversedInputs[l].reserve(steps * batch * layer.inputSize)
          Self.reverseWithinLengths(x, into: reversed, width: layer.inputSize, steps: steps, batch: batch, lengths: lengths)
          xd = UnsafePointer(reversed)
        }
        withOptionalPointer(h0) { h0p in
          withOptionalPointer(c0) { c0p in
            (d == 0 ? layer : reverseLayers[l]).forward(
              input: xd, steps: steps, batch: batch, lengths: lengths, initialH: h0p, initialC: c0p,
              cache: d == 0 ? workspace.caches[l] : workspace.reverseCaches[l], tokens: l == 0 ? tokens : nil,
              droppedWeight: workspace.droppedWeight(layer: l, direction: d))
          }
        }
      }
      if D == 2 {
        // [h^→_t, h^←_t], with h^← put back in the sequence's own order.
        let out = workspace.outputs[l].reserve(steps * batch * 2 * H)
        let forward = UnsafePointer(workspace.caches[l].h.pointer + BH)
        let backward = UnsafePointer(workspace.reverseCaches[l].h.pointer + BH)
        for t in 0..<steps {
          for b in 0..<B {
            let row = out + (t * B + b) * 2 * H
            row.update(from: forward + (t * B + b) * H, count: H)
            let nb = lengths?[b] ?? steps
            if t < nb {
              (row + H).update(from: backward + ((nb - 1 - t) * B + b) * H, count: H)
            } else {
              (row + H).update(repeating: 0, count: H)
            }
          }
        }
      }
    }
  }

  /// The top layer's outputs after a forward pass, T·B × ``outputSize``: h_1 … h_T, or [h^→_t, h^←_t].
  func topOutputs(batch: Int, workspace: StackWorkspace<Scalar>) -> UnsafeMutablePointer<Scalar> {
    layerOutputs(layers.count - 1, batch: batch, workspace: workspace)
  }

  /// The final state s_T (each sequence's own last state) after a forward pass.
  @_specialize(where Scalar == Float)
  func finalState(steps: Int, batch: Int, workspace: StackWorkspace<Scalar>) -> RecurrentState<Scalar> {
    let BH = batch * hiddenSize
    var state = RecurrentState<Scalar>(h: [], c: [])
    for l in layers.indices {
      for cache in isBidirectional ? [workspace.caches[l], workspace.reverseCaches[l]] : [workspace.caches[l]] {
      state.h.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.h.pointer + steps * BH, count: BH))))
      if kind.cell.hasMemoryCell {
        state.c.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.c.pointer + steps * BH, count: BH))))
      }
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
    embeddingGradient: UnsafeMutablePointer<Scalar>? = nil, overlap: (any GradientReadiness<Scalar>)? = nil
  ) -> RecurrentState<Scalar> {
    let BH = batch * hiddenSize, H = hiddenSize, D = directions, T = steps, B = batch
    var initialGradient = RecurrentState<Scalar>(h: [], c: [])
    if recordDeltaNorms {
      workspace.deltaNorms = Array(repeating: Array(repeating: 0, count: steps), count: layers.count)
    }
    for l in layers.indices.reversed() {
      let I = layers[l].inputSize
      var dOut: UnsafePointer<Scalar> =
        l == layers.count - 1 ? outputGradient : UnsafePointer(workspace.inputGradients[l + 1].pointer)
      let x = layerInput(l, input: input, batch: batch, workspace: workspace)
      let dIn: UnsafeMutablePointer<Scalar>? =
        l > 0 ? workspace.inputGradients[l].reserve(steps * batch * I) : inputGradient
      var dReverse: UnsafePointer<Scalar>? = nil
      if D == 2 {
        // Split ∂L/∂[h^→_t, h^←_t]: the forward half as is, the reverse half in the reverse layer's own order.
        let df = workspace.forwardGradient.reserve(T * BH), dr = workspace.reverseGradient.reserve(T * BH)
        for t in 0..<T {
          for b in 0..<B {
            let row = dOut + (t * B + b) * 2 * H
            (df + (t * B + b) * H).update(from: row, count: H)
          }
        }
        for b in 0..<B {
          let nb = lengths?[b] ?? T
          for t in 0..<T {
            let to = dr + (t * B + b) * H
            if t < nb { to.update(from: dOut + ((nb - 1 - t) * B + b) * 2 * H + H, count: H) } else { to.update(repeating: 0, count: H) }
          }
        }
        dOut = UnsafePointer(df)
        dReverse = UnsafePointer(dr)
      }
      var norms = recordDeltaNorms ? workspace.deltaNorms[l] : []
      for d in 0..<D {
        let dhT = finalStateGradient?.h[l * D + d]
        let dcT = finalStateGradient?.c.isEmpty == false ? finalStateGradient?.c[l * D + d] : nil
        withOptionalPointer(dhT) { dhp in
          withOptionalPointer(dcT) { dcp in
            norms.withUnsafeMutableBufferPointer { np in
              if d == 0 {
                layers[l].backward(
                  input: x, steps: steps, batch: batch, lengths: lengths, outputGradient: dOut, finalHGradient: dhp,
                  finalCGradient: dcp, cache: workspace.caches[l], gradient: &gradient.layers[l], inputGradient: dIn,
                  deltaNorms: recordDeltaNorms ? np.baseAddress : nil, tokens: l == 0 ? tokens : nil,
                  embeddingGradient: l == 0 ? embeddingGradient : nil,
                  droppedWeight: workspace.droppedWeight(layer: l, direction: 0))
              } else {
                let dInReverse: UnsafeMutablePointer<Scalar>? =
                  dIn == nil ? nil : workspace.reverseInputGradient.reserve(T * B * I)
                reverseLayers[l].backward(
                  input: UnsafePointer(workspace.reversedInputs[l].pointer), steps: steps, batch: batch,
                  lengths: lengths, outputGradient: dReverse!, finalHGradient: dhp, finalCGradient: dcp,
                  cache: workspace.reverseCaches[l], gradient: &gradient.reverseLayers[l], inputGradient: dInReverse,
                  deltaNorms: nil, droppedWeight: workspace.droppedWeight(layer: l, direction: 1))
                if let dIn, let dInReverse {
                  Self.reverseWithinLengths(
                    dInReverse, into: dIn, width: I, steps: T, batch: B, lengths: lengths, accumulate: true)
                }
              }
            }
          }
        }
      }
      if recordDeltaNorms { workspace.deltaNorms[l] = norms }
      if let overlap {
        // Layer l's weight gradients are final: its reduction starts while the layers below run.
        if D == 2 { overlap.finished(layer: gradient.reverseLayers[l]) }
        overlap.finished(layer: gradient.layers[l])
      }
      if l > 0, workspace.usedDropout[l], let dIn {
        Dropout.backward(count: steps * batch * I, mask: workspace.masks[l].pointer, gradient: dIn)
      }
      var hs: [Tensor<Scalar>] = [], cs: [Tensor<Scalar>] = []
      for cache in D == 2 ? [workspace.caches[l], workspace.reverseCaches[l]] : [workspace.caches[l]] {
        hs.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.dh.pointer, count: BH))))
        if kind.cell.hasMemoryCell {
          cs.append(Tensor(shape: [batch, hiddenSize], scalars: Array(UnsafeBufferPointer(start: cache.dc.pointer, count: BH))))
        }
      }
      initialGradient.h.insert(contentsOf: hs, at: 0)
      initialGradient.c.insert(contentsOf: cs, at: 0)
    }
    return initialGradient
  }
}

/// Calls `body` with a pointer to the tensor's elements, or nil when there is no tensor.
func withOptionalPointer<S: RecurScalar, R>(_ tensor: Tensor<S>?, _ body: (UnsafePointer<S>?) throws -> R) rethrows -> R {
  if let tensor { return try tensor.withPointer { try body($0) } }
  return try body(nil)
}

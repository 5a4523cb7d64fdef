import Foundation
import Recur
import SwiftProtobuf

/// A trained `RecurrentNetwork` as an ONNX model, for ONNX Runtime and the other ONNX engines.
///
/// The graph uses ONNX's own recurrent operators (`LSTM`, `GRU`, `RNN`, opset 17, IR version 8):
///
///     x_t = E[token_t]                      Gather (language models), or the input vectors as they are
///     s^l_t = f_s(x^l_t, s^l_{t−1})         one LSTM / GRU / RNN node per layer, with sequence_lens
///     z_t = W^o s^L_t + W^o_0               MatMul, Add        → output `logits`
///     y_t = f_o(z_t)                        Softmax / Sigmoid / Tanh / Identity → output `output`
///
/// Inputs and outputs (time-major, as ONNX's recurrent operators; `T` and `B` are free dimensions):
/// - `tokens` (int64, T × B) for a language model, or `inputs` (float, T × B × I) for a vector model;
/// - `sequence_lens` (int32, B): each sequence's length n^{(b)} ≤ T; steps after it leave the state alone
///   and their outputs are not defined by the model;
/// - `h0` (float, L·D × B × H) and, for the LSTM, `c0`: the state s_0, layer by layer (direction by direction
///   within a layer, forward then reverse), the layout of PyTorch's `h_0`; zeros for a fresh start;
/// - outputs `logits` and `output` (T × B × V), `hn` and, for the LSTM, `cn` (L·D × B × H): the state after
///   each sequence's last step. Feeding `hn`/`cn` back as `h0`/`c0` with T = 1 runs a one-direction model
///   one step at a time, the state-machine view.
///
/// A bidirectional network (D = 2) has one node per layer with `direction = "bidirectional"`, W, R and B
/// stacked [forward, reverse]; its `Y` (T × 2 × B × H) becomes [h^→_t, h^←_t] (T × B × 2H) by a `Transpose`
/// and `Reshape`. With `sequence_lens` the reverse direction starts at each sequence's own last valid step.
/// Such a model has no step-by-step use: its reverse direction reads the steps after t.
///
/// Gate orders are converted: PyTorch's LSTM blocks (i, f, g, o) become ONNX's (i, o, f, c) and its GRU
/// blocks (r, z, n) ONNX's (z, r, h), with `linear_before_reset = 1` (PyTorch's GRU multiplies the reset
/// gate into W_hn h + b_hn). The chapter's gated RNN has no ONNX operator; its layers are built from
/// elementary operators, a `Scan` over time whose step is the cell's equations.
public enum ONNXExport {
  /// The ONNX operator set the models use.
  public static let opsetVersion: Int64 = 17
  /// The ONNX IR version the models declare (the one that goes with opset 17).
  public static let irVersion: Int64 = 8

  /// The weights of one direction of one recurrent layer, in PyTorch's layout (G·H × I, G·H × H, G·H, G·H).
  public struct DirectionWeights: Sendable {
    /// W_ih (`RecurrentLayer.weightIH` in Recur).
    public var weightIH: Tensor<Float>
    /// W_hh (`RecurrentLayer.weightHH` in Recur).
    public var weightHH: Tensor<Float>
    /// b_ih.
    public var biasIH: Tensor<Float>
    /// b_hh.
    public var biasHH: Tensor<Float>

    /// One direction's weights.
    public init(weightIH: Tensor<Float>, weightHH: Tensor<Float>, biasIH: Tensor<Float>, biasHH: Tensor<Float>) {
      self.weightIH = weightIH
      self.weightHH = weightHH
      self.biasIH = biasIH
      self.biasHH = biasHH
    }
  }

  /// The serialized ONNX model of a network.
  ///
  /// - Parameters:
  ///   - network: a token or vector network with LSTM, GRU, RNN (tanh, ReLU or sigmoid) or gated RNN layers,
  ///     one direction or (not the gated RNN) bidirectional.
  ///   - metadata: key–value pairs stored as the model's `metadata_props` (for example the vocabulary).
  /// - Throws: ``ExportError`` for an RNN with f_s = identity, which ONNX's RNN operator cannot express, and
  ///   for a bidirectional gated RNN, whose `Scan` runs one direction.
  public static func model(_ network: RecurrentNetwork<Float>, metadata: [String: String] = [:]) throws -> Data {
    let stack = network.stack
    let layers = stack.layers.indices.map { l in
      // Forward, then (bidirectional) reverse: ONNX's num_directions axis.
      (stack.isBidirectional ? [stack.layers[l], stack.reverseLayers[l]] : [stack.layers[l]]).map { layer in
        DirectionWeights(weightIH: layer.weightIH, weightHH: layer.weightHH, biasIH: layer.biasIH, biasHH: layer.biasHH)
      }
    }
    return try model(
      configuration: network.configuration, embedding: network.embedding, layers: layers,
      headWeight: network.headWeight, headBias: network.headBias, metadata: metadata)
  }

  /// The serialized ONNX model of a network given layer by layer, each layer with D = 1 or 2 directions
  /// (forward, then reverse, as ONNX's `num_directions` axis; the head then reads 2H features per step, the
  /// forward half first, as PyTorch's bidirectional output).
  ///
  /// - Throws: ``ExportError`` for an unsupported cell or inconsistent shapes.
  public static func model(
    configuration: RecurrentNetwork<Float>.Configuration, embedding: Tensor<Float>?, layers: [[DirectionWeights]],
    headWeight: Tensor<Float>, headBias: Tensor<Float>, metadata: [String: String] = [:]
  ) throws -> Data {
    let proto = try modelProto(
      configuration: configuration, embedding: embedding, layers: layers, headWeight: headWeight,
      headBias: headBias, metadata: metadata)
    do { return try proto.serializedData() } catch {
      throw ExportError("the ONNX model cannot be encoded: \(error)")
    }
  }

  /// Writes ``model(_:metadata:)`` to `url` atomically: the file is whole or absent, never half-written.
  public static func write(_ network: RecurrentNetwork<Float>, metadata: [String: String] = [:], to url: URL) throws {
    let data = try model(network, metadata: metadata)
    do { try AtomicFile.write(data, to: url) } catch { throw ExportError(error.description) }
  }

  // MARK: The graph

  /// How a cell becomes an ONNX operator: its name, the PyTorch gate block each ONNX block takes, attributes.
  struct CellOperator {
    var opType: String
    var gateOrder: [Int]
    var attributes: (_ directions: Int) -> [Onnx_AttributeProto]
    var hasMemoryCell: Bool
  }

  static func cellOperator(_ cell: CellKind) throws -> CellOperator {
    switch cell {
    case .lstm:
      // ONNX (i, o, f, c) from PyTorch (i, f, g, o).
      return CellOperator(opType: "LSTM", gateOrder: [0, 3, 1, 2], attributes: { _ in [] }, hasMemoryCell: true)
    case .gru:
      // ONNX (z, r, h) from PyTorch (r, z, n); the reset gate multiplies W_hn h + b_hn.
      return CellOperator(
        opType: "GRU", gateOrder: [1, 0, 2], attributes: { _ in [attribute("linear_before_reset", 1)] },
        hasMemoryCell: false)
    case .rnn(let f):
      guard f != .identity else {
        throw ExportError("the RNN with f_s = identity has no ONNX RNN activation; export supports tanh, relu and sigmoid")
      }
      let name = activationOperator(f)
      return CellOperator(
        opType: "RNN", gateOrder: [0],
        attributes: { d in [attribute("activations", strings: Array(repeating: name, count: d))] },
        hasMemoryCell: false)
    case .gated:
      // No ONNX operator: a Scan over elementary operators (``gatedLayer``), PyTorch-layout weights as they are.
      return CellOperator(opType: "Scan", gateOrder: [0, 1], attributes: { _ in [] }, hasMemoryCell: false)
    }
  }

  /// The ONNX operator of an element-wise f_s.
  static func activationOperator(_ f: Activation) -> String {
    switch f {
    case .tanh: "Tanh"
    case .relu: "Relu"
    case .sigmoid: "Sigmoid"
    case .identity: "Identity"
    }
  }

  static func modelProto(
    configuration c: RecurrentNetwork<Float>.Configuration, embedding: Tensor<Float>?, layers: [[DirectionWeights]],
    headWeight: Tensor<Float>, headBias: Tensor<Float>, metadata: [String: String]
  ) throws -> Onnx_ModelProto {
    let op = try cellOperator(c.cell)
    let H = c.hiddenSize, G = op.gateOrder.count, L = layers.count
    guard L >= 1, let D = layers.first?.count, D == 1 || D == 2, layers.allSatisfy({ $0.count == D }) else {
      throw ExportError("every layer needs the same number of directions, 1 or 2")
    }
    var g = GraphBuilder()
    let free = [Dimension.symbolic("T"), .symbolic("B")]

    // x_t: an embedding row per token, or the input vectors.
    var x: String
    if let embedding, let E = c.embeddingSize {
      guard embedding.shape == [c.inputSize, E] else { throw ExportError("the embedding is \(embedding.shape), expected [V, E]") }
      g.input("tokens", .int64, free)
      g.initializer("embedding.weight", embedding.shape, embedding.scalars)
      g.node("Gather", ["embedding.weight", "tokens"], ["embedded"], [attribute("axis", 0)])
      x = "embedded"
    } else {
      g.input("inputs", .float, free + [.fixed(c.inputSize)])
      x = "inputs"
    }
    g.input("sequence_lens", .int32, [.symbolic("B")])
    let stateShape = [Dimension.fixed(L * D), .symbolic("B"), .fixed(H)]
    g.input("h0", .float, stateShape)
    if op.hasMemoryCell { g.input("c0", .float, stateShape) }

    var finalH: [String] = [], finalC: [String] = []
    for (l, directions) in layers.enumerated() {
      let inputSize = l == 0 ? (c.embeddingSize ?? c.inputSize) : D * H
      if case .gated(let f) = c.cell {
        guard D == 1 else {
          throw ExportError(
            "the chapter's gated RNN is exported with one direction only; a bidirectional gated model has no ONNX export (LSTM, GRU and RNN have)")
        }
        let d = directions[0]
        guard d.weightIH.shape == [2 * H, inputSize], d.weightHH.shape == [2 * H, H], d.biasIH.shape == [2 * H],
          d.biasHH.shape == [2 * H]
        else { throw ExportError("layer \(l)'s weights do not have the shapes of a \(c.cell) layer with H = \(H)") }
        g.initializer("state_start_l\(l)", [1], int64s: [Int64(l)])
        g.initializer("state_end_l\(l)", [1], int64s: [Int64(l + 1)])
        g.node("Slice", ["h0", "state_start_l\(l)", "state_end_l\(l)", "state_axis"], ["h0_l\(l)"])
        x = gatedLayer(&g, layer: l, input: x, inputSize: inputSize, hidden: H, weights: d, activation: f)
        finalH.append("hn_l\(l)")
        continue
      }
      var w: [Float] = [], r: [Float] = [], b: [Float] = [], bh: [Float] = []
      for d in directions {
        guard d.weightIH.shape == [G * H, inputSize], d.weightHH.shape == [G * H, H], d.biasIH.shape == [G * H],
          d.biasHH.shape == [G * H]
        else { throw ExportError("layer \(l)'s weights do not have the shapes of a \(c.cell) layer with H = \(H)") }
        w += permuteGateBlocks(d.weightIH.scalars, order: op.gateOrder, blockCount: H * inputSize)
        r += permuteGateBlocks(d.weightHH.scalars, order: op.gateOrder, blockCount: H * H)
        b += permuteGateBlocks(d.biasIH.scalars, order: op.gateOrder, blockCount: H)
        bh += permuteGateBlocks(d.biasHH.scalars, order: op.gateOrder, blockCount: H)
      }
      // ONNX's B is [D, 2·G·H]: per direction Wb then Rb.
      var bias: [Float] = []
      for d in 0..<D {
        bias += b[(d * G * H)..<((d + 1) * G * H)]
        bias += bh[(d * G * H)..<((d + 1) * G * H)]
      }
      g.initializer("W_l\(l)", [D, G * H, inputSize], w)
      g.initializer("R_l\(l)", [D, G * H, H], r)
      g.initializer("B_l\(l)", [D, 2 * G * H], bias)
      // This layer's slice of s_0.
      g.initializer("state_start_l\(l)", [1], int64s: [Int64(l * D)])
      g.initializer("state_end_l\(l)", [1], int64s: [Int64((l + 1) * D)])
      g.node("Slice", ["h0", "state_start_l\(l)", "state_end_l\(l)", "state_axis"], ["h0_l\(l)"])
      if op.hasMemoryCell { g.node("Slice", ["c0", "state_start_l\(l)", "state_end_l\(l)", "state_axis"], ["c0_l\(l)"]) }
      var inputs = [x, "W_l\(l)", "R_l\(l)", "B_l\(l)", "sequence_lens", "h0_l\(l)"]
      var outputs = ["y_l\(l)", "hn_l\(l)"]
      if op.hasMemoryCell {
        inputs.append("c0_l\(l)")
        outputs.append("cn_l\(l)")
      }
      g.node(
        op.opType, inputs, outputs,
        [attribute("hidden_size", H), attribute("direction", string: D == 2 ? "bidirectional" : "forward")]
          + op.attributes(D), name: "rnn_l\(l)")
      finalH.append("hn_l\(l)")
      if op.hasMemoryCell { finalC.append("cn_l\(l)") }
      // Y is T × D × B × H; the next layer (and the head) read T × B × D·H.
      g.node("Transpose", ["y_l\(l)"], ["y_l\(l)_tbdh"], [attribute("perm", ints: [0, 2, 1, 3])])
      g.node("Reshape", ["y_l\(l)_tbdh", "features_shape"], ["x_l\(l + 1)"])
      x = "x_l\(l + 1)"
    }
    g.initializer("state_axis", [1], int64s: [0])
    // The ONNX operators' outputs are reshaped to T × B × D·H; the gated RNN's Scan gives T × B × H directly.
    if case .gated = c.cell {} else { g.initializer("features_shape", [3], int64s: [0, 0, -1]) }

    // z_t = W^o s_t + W^o_0, y_t = f_o(z_t).
    let V = c.outputSize
    guard headWeight.shape == [V, D * H], headBias.shape == [V] else {
      throw ExportError("the head is \(headWeight.shape), expected [\(V), \(D * H)]")
    }
    var transposed = [Float](repeating: 0, count: V * D * H)
    for v in 0..<V { for k in 0..<(D * H) { transposed[k * V + v] = headWeight.scalars[v * D * H + k] } }
    g.initializer("head.weight_t", [D * H, V], transposed)
    g.initializer("head.bias", [V], headBias.scalars)
    g.node("MatMul", [x, "head.weight_t"], ["head_product"])
    g.node("Add", ["head_product", "head.bias"], ["logits"])
    switch c.outputActivation {
    case .softmax: g.node("Softmax", ["logits"], ["output"], [attribute("axis", -1)])
    case .sigmoid: g.node("Sigmoid", ["logits"], ["output"])
    case .tanh: g.node("Tanh", ["logits"], ["output"])
    case .identity: g.node("Identity", ["logits"], ["output"])
    }
    g.node("Concat", finalH, ["hn"], [attribute("axis", 0)])
    if op.hasMemoryCell { g.node("Concat", finalC, ["cn"], [attribute("axis", 0)]) }

    g.output("logits", .float, free + [.fixed(V)])
    g.output("output", .float, free + [.fixed(V)])
    g.output("hn", .float, stateShape)
    if op.hasMemoryCell { g.output("cn", .float, stateShape) }

    g.graph.name = "recur_\(c.cell)_L\(L)"
    g.graph.docString =
      "Recur \(c.cell), \(L) layer(s), H = \(H)"
      + (D == 2 ? ", bidirectional" : "") + ". Time-major inputs; state h0"
      + (op.hasMemoryCell ? "/c0" : "") + " of L·D × B × H; outputs logits, output = \(c.outputActivation.rawValue)(logits), "
      + "and the final state."

    var model = Onnx_ModelProto()
    model.irVersion = irVersion
    model.producerName = "Recur"
    model.modelVersion = 1
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = opsetVersion
    model.opsetImport = [opset]
    model.graph = g.graph
    model.metadataProps = metadata.sorted { $0.key < $1.key }.map { key, value in
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      return entry
    }
    return model
  }

  /// One layer of the chapter's gated RNN as a `Scan` over time, for B sequences at once:
  ///
  ///     g_t = sigmoid(W^{gx} x_t + W^{gs} s_{t-1} + offset)                   (Gemm, Gemm, Add, Split, Sigmoid)
  ///     s_t = (1 − g_t) ∗ s_{t-1} + g_t ∗ f_s(W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0)
  ///     s_t = s_{t-1} where t ≥ n^{(b)}                                        (Where, with a mask from sequence_lens)
  ///
  /// Reads `h0_l<l>` (1 × B × H), writes `hn_l<l>` (1 × B × H) and returns the name of the outputs, T × B × H.
  static func gatedLayer(
    _ g: inout GraphBuilder, layer l: Int, input x: String, inputSize I: Int, hidden H: Int,
    weights d: DirectionWeights, activation f: Activation
  ) -> String {
    let s = "_l\(l)"
    g.initializer("weight_ih" + s, [2 * H, I], d.weightIH.scalars)
    g.initializer("weight_hh" + s, [2 * H, H], d.weightHH.scalars)
    g.initializer("bias_ih" + s, [2 * H], d.biasIH.scalars)
    g.initializer("bias_hh" + s, [2 * H], d.biasHH.scalars)
    if l == 0 {
      // valid[t, b] = t < n^{(b)}, T × B × 1, shared by every layer.
      g.initializer("gated_zero", [], int64s: [0])
      g.initializer("gated_step", [], int64s: [1])
      g.initializer("gated_axis0", [1], int64s: [0])
      g.initializer("gated_axis1", [1], int64s: [1])
      g.initializer("gated_axis2", [1], int64s: [2])
      g.initializer("gated_one", [], [1])
      g.initializer("gated_split", [2], int64s: [Int64(H), Int64(H)])
      g.node("Shape", [x], ["gated_input_shape"])
      g.node("Gather", ["gated_input_shape", "gated_zero"], ["gated_steps"], [attribute("axis", 0)])
      g.node("Range", ["gated_zero", "gated_steps", "gated_step"], ["gated_t"])
      g.node("Unsqueeze", ["gated_t", "gated_axis1"], ["gated_t_column"])
      g.node("Cast", ["sequence_lens"], ["gated_lengths"], [attribute("to", Int(Onnx_TensorProto.DataType.int64.rawValue))])
      g.node("Unsqueeze", ["gated_lengths", "gated_axis0"], ["gated_lengths_row"])
      g.node("Less", ["gated_t_column", "gated_lengths_row"], ["gated_valid_tb"])
      g.node("Unsqueeze", ["gated_valid_tb", "gated_axis2"], ["gated_valid"])
    }
    // The step: state s_prev, scan inputs x_t and valid_t; state s, scan output y_t.
    var body = GraphBuilder()
    body.graph.name = "gated_step" + s
    body.input("s_prev" + s, .float, [.symbolic("B"), .fixed(H)])
    body.input("x_t" + s, .float, [.symbolic("B"), .fixed(I)])
    body.input("valid_t" + s, .bool, [.symbolic("B"), .fixed(1)])
    body.node("Gemm", ["x_t" + s, "weight_ih" + s, "bias_ih" + s], ["xp" + s], [attribute("transB", 1)])
    body.node("Gemm", ["s_prev" + s, "weight_hh" + s, "bias_hh" + s], ["hp" + s], [attribute("transB", 1)])
    body.node("Add", ["xp" + s, "hp" + s], ["pre" + s])
    body.node("Split", ["pre" + s, "gated_split"], ["gate_pre" + s, "candidate_pre" + s], [attribute("axis", 1)])
    body.node("Sigmoid", ["gate_pre" + s], ["gate" + s])
    body.node(activationOperator(f), ["candidate_pre" + s], ["candidate" + s])
    body.node("Sub", ["gated_one", "gate" + s], ["keep" + s])
    body.node("Mul", ["keep" + s, "s_prev" + s], ["kept" + s])
    body.node("Mul", ["gate" + s, "candidate" + s], ["written" + s])
    body.node("Add", ["kept" + s, "written" + s], ["s_new" + s])
    body.node("Where", ["valid_t" + s, "s_new" + s, "s_prev" + s], ["s" + s])
    body.node("Identity", ["s" + s], ["y_t" + s])
    body.output("s" + s, .float, [.symbolic("B"), .fixed(H)])
    body.output("y_t" + s, .float, [.symbolic("B"), .fixed(H)])

    g.node("Squeeze", ["h0" + s, "gated_axis0"], ["h0_bh" + s])
    var bodyAttribute = Onnx_AttributeProto()
    bodyAttribute.name = "body"
    bodyAttribute.type = .graph
    bodyAttribute.g = body.graph
    g.node(
      "Scan", ["h0_bh" + s, x, "gated_valid"], ["hn_bh" + s, "y" + s],
      [attribute("num_scan_inputs", 2), bodyAttribute], name: "rnn" + s)
    g.node("Unsqueeze", ["hn_bh" + s, "gated_axis0"], ["hn" + s])
    return "y" + s
  }

  /// Reorders the gate blocks of a fused matrix or vector: block k of the result is block `order[k]` of
  /// `scalars`, each block `blockCount` scalars long.
  static func permuteGateBlocks(_ scalars: [Float], order: [Int], blockCount: Int) -> [Float] {
    var result: [Float] = []
    result.reserveCapacity(scalars.count)
    for source in order { result += scalars[(source * blockCount)..<((source + 1) * blockCount)] }
    return result
  }

  // MARK: Protobuf helpers

  enum Dimension {
    case fixed(Int)
    case symbolic(String)
  }

  struct GraphBuilder {
    var graph = Onnx_GraphProto()

    mutating func initializer(_ name: String, _ dims: [Int], _ values: [Float]) {
      var t = Onnx_TensorProto()
      t.name = name
      t.dims = dims.map { Int64($0) }
      t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
      t.rawData = values.withUnsafeBytes { Data($0) }
      graph.initializer.append(t)
    }

    mutating func initializer(_ name: String, _ dims: [Int], int64s: [Int64]) {
      var t = Onnx_TensorProto()
      t.name = name
      t.dims = dims.map { Int64($0) }
      t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
      t.rawData = int64s.withUnsafeBytes { Data($0) }
      graph.initializer.append(t)
    }

    mutating func node(
      _ opType: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = [],
      name: String? = nil
    ) {
      var n = Onnx_NodeProto()
      n.opType = opType
      n.input = inputs
      n.output = outputs
      n.attribute = attributes
      n.name = name ?? "\(outputs[0])_\(opType.lowercased())"
      graph.node.append(n)
    }

    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dimension]) -> Onnx_ValueInfoProto {
      var shape = Onnx_TensorShapeProto()
      shape.dim = dims.map { d in
        var dim = Onnx_TensorShapeProto.Dimension()
        switch d {
        case .fixed(let n): dim.dimValue = Int64(n)
        case .symbolic(let s): dim.dimParam = s
        }
        return dim
      }
      var tensor = Onnx_TypeProto.Tensor()
      tensor.elemType = Int32(type.rawValue)
      tensor.shape = shape
      var typeProto = Onnx_TypeProto()
      typeProto.tensorType = tensor
      var info = Onnx_ValueInfoProto()
      info.name = name
      info.type = typeProto
      return info
    }

    mutating func input(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dimension]) {
      graph.input.append(Self.valueInfo(name, type, dims))
    }

    mutating func output(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dimension]) {
      graph.output.append(Self.valueInfo(name, type, dims))
    }
  }

  static func attribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(value)
    return a
  }

  static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map { Int64($0) }
    return a
  }

  static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(string.utf8)
    return a
  }

  static func attribute(_ name: String, strings: [String]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .strings
    a.strings = strings.map { Data($0.utf8) }
    return a
  }
}

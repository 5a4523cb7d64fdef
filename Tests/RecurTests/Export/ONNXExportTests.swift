import Foundation
import Recur
import Testing

@testable import RecurExport

/// The structure of exported ONNX models. Their numbers are checked against ONNX Runtime by
/// scripts/check_onnx.py (run by .ci/run), which needs Python.
@Suite("Export/ONNX graphs")
struct ONNXExportTests {
  static func decode(_ network: RecurrentNetwork<Float>) throws -> Onnx_ModelProto {
    try Onnx_ModelProto(serializedBytes: try ONNXExport.model(network, metadata: ["k": "v"]))
  }

  static func floats(_ graph: Onnx_GraphProto, _ name: String) throws -> (dims: [Int64], values: [Float]) {
    let t = try #require(graph.initializer.first { $0.name == name }, "no initializer \(name)")
    let values = t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    return (t.dims, values)
  }

  @Test("a 2-layer LSTM language model: Gather, one LSTM node per layer, head, softmax, state in and out")
  func lstmLanguageModel() throws {
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .lstm, vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2), seed: 3)
    let model = try Self.decode(network)
    #expect(model.irVersion == 8 && model.opsetImport.map(\.version) == [17])
    #expect(model.metadataProps.map(\.key) == ["k"])
    let g = model.graph
    #expect(g.input.map(\.name) == ["tokens", "sequence_lens", "h0", "c0"])
    #expect(g.output.map(\.name) == ["logits", "output", "hn", "cn"])
    #expect(g.node.filter { $0.opType == "LSTM" }.count == 2)
    #expect(g.node.first?.opType == "Gather")
    #expect(g.node.contains { $0.opType == "Softmax" })
    let lstm = try #require(g.node.first { $0.opType == "LSTM" })
    #expect(lstm.input == ["embedded", "W_l0", "R_l0", "B_l0", "sequence_lens", "h0_l0", "c0_l0"])
    #expect(lstm.attribute.first { $0.name == "hidden_size" }?.i == 4)
    #expect(lstm.attribute.first { $0.name == "direction" }?.s == Data("forward".utf8))

    // ONNX's gate blocks (i, o, f, c) are PyTorch's blocks (i, f, g, o) in the order 0, 3, 1, 2.
    let H = 4
    for l in 0..<2 {
      let layer = network.stack.layers[l]
      let I = layer.inputSize
      let (wDims, w) = try Self.floats(g, "W_l\(l)")
      #expect(wDims == [1, Int64(4 * H), Int64(I)])
      let (_, r) = try Self.floats(g, "R_l\(l)")
      let (bDims, b) = try Self.floats(g, "B_l\(l)")
      #expect(bDims == [1, Int64(8 * H)])
      for (onnxBlock, torchBlock) in [0, 3, 1, 2].enumerated() {
        #expect(Array(w[(onnxBlock * H * I)..<((onnxBlock + 1) * H * I)])
          == Array(layer.weightIH.scalars[(torchBlock * H * I)..<((torchBlock + 1) * H * I)]))
        #expect(Array(r[(onnxBlock * H * H)..<((onnxBlock + 1) * H * H)])
          == Array(layer.weightHH.scalars[(torchBlock * H * H)..<((torchBlock + 1) * H * H)]))
        #expect(Array(b[(onnxBlock * H)..<((onnxBlock + 1) * H)])
          == Array(layer.biasIH.scalars[(torchBlock * H)..<((torchBlock + 1) * H)]))
        #expect(Array(b[(4 * H + onnxBlock * H)..<(4 * H + (onnxBlock + 1) * H)])
          == Array(layer.biasHH.scalars[(torchBlock * H)..<((torchBlock + 1) * H)]))
      }
    }
    // The head is stored transposed for MatMul: head.weight_t[k, v] = W^o[v, k].
    let (hDims, head) = try Self.floats(g, "head.weight_t")
    #expect(hDims == [4, 6])
    #expect(head[1 * 6 + 5] == network.headWeight.scalars[5 * 4 + 1])
    #expect(try Self.floats(g, "embedding.weight").values == network.embedding!.scalars)
  }

  @Test("GRU: blocks (z, r, h) from PyTorch's (r, z, n), linear_before_reset = 1; RNN activations")
  func gruAndRNN() throws {
    let gru = try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 2, hiddenSize: 3, layers: 1, outputSize: 2, outputActivation: .sigmoid), seed: 1)
    let g = try Self.decode(gru).graph
    #expect(g.input.map(\.name) == ["inputs", "sequence_lens", "h0"])
    #expect(g.output.map(\.name) == ["logits", "output", "hn"])
    let node = try #require(g.node.first { $0.opType == "GRU" })
    #expect(node.attribute.first { $0.name == "linear_before_reset" }?.i == 1)
    let (_, w) = try Self.floats(g, "W_l0")
    let torch = gru.stack.layers[0].weightIH.scalars
    #expect(Array(w[0..<6]) == Array(torch[6..<12]))  // z
    #expect(Array(w[6..<12]) == Array(torch[0..<6]))  // r
    #expect(Array(w[12..<18]) == Array(torch[12..<18]))  // h
    #expect(g.node.contains { $0.opType == "Sigmoid" })

    for (f, name) in [(Activation.tanh, "Tanh"), (.relu, "Relu"), (.sigmoid, "Sigmoid")] {
      let rnn = try RecurrentNetwork<Float>(.init(cell: .rnn(f), inputSize: 2, hiddenSize: 3, layers: 3, outputSize: 1))
      let graph = try Self.decode(rnn).graph
      let nodes = graph.node.filter { $0.opType == "RNN" }
      #expect(nodes.count == 3)
      #expect(nodes.allSatisfy { $0.attribute.first { $0.name == "activations" }?.strings == [Data(name.utf8)] })
      #expect(graph.node.last { $0.opType == "Concat" }?.input == ["hn_l0", "hn_l1", "hn_l2"])
    }
  }

  @Test("two directions: ONNX's num_directions axis, the head reading 2H features")
  func bidirectionalLayout() throws {
    let configuration = RecurrentNetwork<Float>.Configuration(cell: .gru, inputSize: 2, hiddenSize: 3, layers: 2, outputSize: 1)
    var generator = SeededGenerator(seed: 5)
    func direction(_ inputSize: Int) -> ONNXExport.DirectionWeights {
      .init(
        weightIH: .normal(shape: [9, inputSize], using: &generator), weightHH: .normal(shape: [9, 3], using: &generator),
        biasIH: .normal(shape: [9], using: &generator), biasHH: .normal(shape: [9], using: &generator))
    }
    let layers = [[direction(2), direction(2)], [direction(6), direction(6)]]
    let data = try ONNXExport.model(
      configuration: configuration, embedding: nil, layers: layers, headWeight: .normal(shape: [1, 6], using: &generator),
      headBias: Tensor(shape: [1]))
    let g = try Onnx_ModelProto(serializedBytes: data).graph
    #expect(try Self.floats(g, "W_l1").dims == [2, 9, 6])
    #expect(try Self.floats(g, "B_l0").dims == [2, 18])
    #expect(g.node.filter { $0.opType == "GRU" }.allSatisfy { $0.attribute.first { $0.name == "direction" }?.s == Data("bidirectional".utf8) })
    #expect(g.input.first { $0.name == "h0" }?.type.tensorType.shape.dim.first?.dimValue == 4)
    // The reverse direction's bias follows the forward direction's [Wb, Rb].
    let (_, b) = try Self.floats(g, "B_l0")
    #expect(Array(b[18..<21]) == Array(layers[0][1].biasIH.scalars[3..<6]))
  }

  @Test("a bidirectional network: its reverse layers' weights in ONNX's reverse slot, L·2 states")
  func bidirectionalNetwork() throws {
    let network = try RecurrentNetwork<Float>(
      .init(cell: .lstm, inputSize: 2, hiddenSize: 3, layers: 2, outputSize: 1, bidirectional: true), seed: 4)
    let g = try Self.decode(network).graph
    let (dims, w) = try Self.floats(g, "W_l1")
    #expect(dims == [2, 12, 6])
    // ONNX's LSTM block i is PyTorch's i (rows 0..<H): forward first, then the reverse layer's.
    let rows = 3 * 6
    #expect(Array(w[0..<rows]) == Array(network.stack.layers[1].weightIH.scalars[0..<rows]))
    #expect(Array(w[(12 * 6)..<(12 * 6 + rows)]) == Array(network.stack.reverseLayers[1].weightIH.scalars[0..<rows]))
    #expect(g.node.filter { $0.opType == "LSTM" }.allSatisfy { $0.attribute.first { $0.name == "direction" }?.s == Data("bidirectional".utf8) })
    #expect(g.output.first { $0.name == "cn" }?.type.tensorType.shape.dim.first?.dimValue == 4)
    #expect(try Self.floats(g, "head.weight_t").dims == [6, 1])
  }

  @Test("a bidirectional gated RNN is refused with one line")
  func bidirectionalGatedRefused() throws {
    let gated = try RecurrentNetwork<Float>(
      .init(cell: .gated(.tanh), inputSize: 2, hiddenSize: 3, outputSize: 1, bidirectional: true), seed: 4)
    #expect(
      throws: ExportError(
        "the chapter's gated RNN is exported with one direction only; a bidirectional gated model has no ONNX export (LSTM, GRU and RNN have)")
    ) { try ONNXExport.model(gated) }
  }

  @Test("the chapter's gated RNN: a Scan per layer over Gemm, Split, Sigmoid, f_s and a Where for the lengths")
  func gatedScan() throws {
    let gated = try RecurrentNetwork<Float>(
      .languageModel(cell: .gated(.relu), vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 2))
    let g = try Self.decode(gated).graph
    #expect(g.input.map(\.name) == ["tokens", "sequence_lens", "h0"])
    let scans = g.node.filter { $0.opType == "Scan" }
    #expect(scans.count == 2)
    let body = try #require(scans.first?.attribute.first { $0.name == "body" }?.g)
    #expect(body.node.map(\.opType) == ["Gemm", "Gemm", "Add", "Split", "Sigmoid", "Relu", "Sub", "Mul", "Mul", "Add", "Where", "Identity"])
    #expect(body.input.map(\.name) == ["s_prev_l0", "x_t_l0", "valid_t_l0"])
    // The weights are PyTorch's as they are: rows 0..<H the gate g_t, H..<2H the candidate.
    #expect(try Self.floats(g, "weight_ih_l1").values == gated.stack.layers[1].weightIH.scalars)
    #expect(try Self.floats(g, "weight_ih_l1").dims == [8, 4])
  }

  @Test("an RNN with f_s = identity is refused with one line")
  func refusals() throws {
    let identity = try RecurrentNetwork<Float>(.init(cell: .rnn(.identity), inputSize: 2, hiddenSize: 3, outputSize: 1))
    #expect(throws: ExportError("the RNN with f_s = identity has no ONNX RNN activation; export supports tanh, relu and sigmoid")) {
      try ONNXExport.model(identity)
    }
  }
}

import Testing

@testable import Recur

/// The AWD-LSTM regularizers against PyTorch (fixtures written by generate_regularization_fixtures.py): a
/// two-layer language model with embedding dropout, locked input, hidden and output dropout and weight drop
/// all on, trained one pass with the masks of a seeded generator. The script draws those masks itself by
/// Recur's documented rules (locked masks: xoshiro256**, SplitMix64, ``DropoutMasks/streamSeed(layer:stream:)``;
/// masks shared by the batch: the counter-based hash of
/// ``DropoutMasks/fillShared(_:slot:count:probability:weight:dropped:)``), so the test proves both that the
/// masks are the ones Recur documents and that the loss and every gradient are PyTorch autograd's for them.
@Suite("Regularization/PyTorch reference with Recur's masks")
struct RegularizationTorchTests {
  static let kinds: [(String, CellKind)] = [("lstm", .lstm), ("gru", .gru), ("rnn_tanh", .rnn(.tanh))]

  @Test("loss, gradients and masks match PyTorch", arguments: [0, 1, 2])
  func parity(index: Int) throws {
    let (name, cell) = Self.kinds[index]
    let fixture = try Fixture("torch_reg_\(name)_L2")
    let V = try fixture.int("vocab_size"), E = try fixture.int("embedding_size"), H = try fixture.int("hidden_size")
    let L = try fixture.int("num_layers"), B = try fixture.int("batch"), T = try fixture.int("steps")
    func p(_ key: String) throws -> Double { try #require(Double(try fixture.metadata(key))) }
    let regularization = Regularization(
      embeddingDropout: try p("embedding_dropout"), inputDropout: try p("input_dropout"),
      hiddenDropout: try p("hidden_dropout"), outputDropout: try p("output_dropout"), weightDrop: try p("weight_drop"))
    var net = try RecurrentNetwork<Float>(
      .languageModel(
        cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: L, regularization: regularization),
      seed: 0)
    try net.updateEachParameter { parameter, tensor in
      let value: Tensor<Float> = try fixture.tensor(parameter)
      #expect(value.shape == tensor.shape, "\(parameter)")
      tensor = value
    }
    let ids = try fixture.integers("ids"), targets = try fixture.integers("targets")
    let batch = try SequenceBatch<Float>(
      tokens: (0..<B).map { b in Array(ids[(b * T)..<((b + 1) * T)]) },
      targets: (0..<B).map { b in Array(targets[(b * T)..<((b + 1) * T)]) })

    let maskSeed = try #require(UInt64(try fixture.metadata("mask_seed")))
    var generator: SeededGenerator? = SeededGenerator(seed: maskSeed)
    var gradient = net.zeros()
    let workspace = NetworkWorkspace<Float>()
    let result = try net.accumulateGradient(
      for: batch, loss: .crossEntropy, into: &gradient, workspace: workspace, dropoutGenerator: &generator)

    // The masks Recur drew are the script's, bit for bit (the locked ones at every step).
    func expectLocked(_ mask: UnsafeMutablePointer<Float>, width: Int, _ stored: String) throws {
      let want: Tensor<Float> = try fixture.tensor(stored)
      for t in 0..<T {
        for b in 0..<B {
          let row = Array(UnsafeBufferPointer(start: mask + (t * B + b) * width, count: width))
          #expect(row == Array(want.scalars[(b * width)..<((b + 1) * width)]), "\(name) \(stored) t=\(t) b=\(b)")
        }
      }
    }
    #expect(workspace.usedEmbeddingRowDropout && workspace.usedEmbeddingDropout && workspace.usedOutputDropout)
    #expect(workspace.stack.usedWeightDrop && workspace.stack.usedDropout[1])
    let rows: Tensor<Float> = try fixture.tensor("mask.embedding_rows")
    #expect(Array(UnsafeBufferPointer(start: workspace.embeddingRowMask.pointer, count: V)) == rows.scalars)
    try expectLocked(workspace.embeddingMask.pointer, width: E, "mask.input")
    try expectLocked(workspace.stack.masks[1].pointer, width: H, "mask.hidden_l1")
    try expectLocked(workspace.outputMask.pointer, width: H, "mask.output")
    for l in 0..<L {
      let want: Tensor<Float> = try fixture.tensor("mask.weight_hh_l\(l)")
      let got = Array(UnsafeBufferPointer(start: workspace.stack.weightMasks[2 * l].pointer, count: want.count))
      #expect(got == want.scalars, "\(name) mask.weight_hh_l\(l)")
    }

    // The loss and every gradient are PyTorch's (float64 reference of the stored float32 inputs).
    let loss: Tensor<Float> = try fixture.tensor("loss")
    expectClose(result.loss, Double(loss.scalars[0]), relativeTolerance: 1e-5, "\(name) loss")
    var compared = 0
    for (parameter, g) in gradient.namedParameters {
      let want: Tensor<Float> = try fixture.tensor("grad.\(parameter)")
      expectClose(g.scalars, want.scalars, relativeTolerance: 1e-5, "\(name) d\(parameter)")
      compared += 1
    }
    #expect(compared == 1 + 4 * L + 2)
  }
}

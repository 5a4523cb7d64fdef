import Testing

@testable import Recur

/// One target per sequence against PyTorch: nn.RNN/GRU/LSTM (two layers) and nn.Linear, unsorted variable
/// lengths through pack_padded_sequence, each readout, weighted cross-entropy, weighted BCE and squared error;
/// fixtures made by Tests/RecurTests/Fixtures/generate_sequence_fixtures.py.
@Suite("One target per sequence: PyTorch parity")
struct SequenceReadoutTorchTests {
  static let kinds: [(String, CellKind)] = [("rnn_tanh", .rnn(.tanh)), ("rnn_relu", .rnn(.relu)), ("gru", .gru), ("lstm", .lstm)]
  static let cases: [(String, SequenceReadout, String)] =
    kinds.flatMap { k in SequenceReadout.allCases.map { (k.0, $0, "ce") } }
    + SequenceReadout.allCases.map { ("lstm", $0, "bce") } + SequenceReadout.allCases.map { ("gru", $0, "mse") }
    + kinds.flatMap { k in SequenceReadout.allCases.map { ("bi_" + k.0, $0, "ce") } }

  @Test("loss and every gradient within 1e-5 (bidirectional too)", arguments: cases)
  func parity(caseName: String, readout: SequenceReadout, lossName: String) throws {
    let bidirectional = caseName.hasPrefix("bi_")
    let kindName = bidirectional ? String(caseName.dropFirst(3)) : caseName
    let cell = try #require(Self.kinds.first { $0.0 == kindName }?.1)
    let fixture = try Fixture("torch_seq_\(caseName)_\(readout.rawValue)_\(lossName)")
    #expect(try fixture.metadata("bidirectional") == (bidirectional ? "true" : "false"))
    let I = try fixture.int("input_size"), H = try fixture.int("hidden_size"), L = try fixture.int("num_layers")
    let B = try fixture.int("batch"), T = try fixture.int("steps"), V = try fixture.int("output_size")
    #expect(try fixture.metadata("readout") == readout.rawValue)
    let loss: ElementLoss = lossName == "ce" ? .crossEntropy : lossName == "bce" ? .binaryCrossEntropy : .squaredError
    let output: OutputActivation = lossName == "ce" ? .softmax : lossName == "bce" ? .sigmoid : .identity
    var net = try RecurrentNetwork<Float>(
      .init(
        cell: cell, inputSize: I, hiddenSize: H, layers: L, outputSize: V, outputActivation: output,
        bidirectional: bidirectional), seed: 0)
    var seen = 0
    try net.updateEachParameter { name, tensor in
      seen += 1
      let value: Tensor<Float> = try fixture.tensor(name)
      #expect(value.shape == tensor.shape, "\(name)")
      tensor = value
    }
    #expect(seen == L * 4 * (bidirectional ? 2 : 1) + 2)
    let lengths = try fixture.integers("lengths")
    let x = timeMajor(try fixture.tensor("input").scalars, batch: B, steps: T, features: I)
    let batch = try SequenceBatch<Float>(
      steps: T, batchSize: B, lengths: lengths, inputs: .vectors(x, features: I),
      targets: .classes(Array(repeating: -1, count: T * B)))
    let targets: FinalStepTargets<Float> =
      lossName == "ce" ? .classes(try fixture.integers("targets")) : .values(try fixture.tensor("targets").scalars, width: V)
    let weights: [Double]? = lossName == "mse" ? nil : try fixture.tensor("class_weights", as: Float.self).scalars.map(Double.init)
    var gradient = net.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try net.accumulateSequenceGradient(
      for: batch, targets: targets, readout: readout, loss: loss, classWeights: weights, into: &gradient,
      dropoutGenerator: &noDropout)
    let label = "\(caseName) \(readout) \(lossName)"
    expectClose(result.loss, Double(try fixture.tensor("loss").scalars[0]), relativeTolerance: 1e-5, "\(label) loss")
    for (name, g) in gradient.namedParameters {
      expectClose(g.scalars, try fixture.tensor("grad.\(name)").scalars, relativeTolerance: 1e-5, "\(label) d\(name)")
    }
    let dx = try #require(result.inputGradient)
    let expectedDx = timeMajor(try fixture.tensor("grad.input").scalars, batch: B, steps: T, features: I)
    expectClose(dx.scalars, expectedDx, relativeTolerance: 1e-5, "\(label) dinput")
  }
}

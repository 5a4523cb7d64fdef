import Testing

@testable import Recur

/// The AWD-LSTM regularizers' backward steps against central finite differences in Double, with the masks
/// held fixed (every pass draws them from a generator with the same seed): weight drop, locked input, hidden
/// and output dropout, embedding dropout, alone and together, for every cell; a bidirectional network of
/// vectors; one target per sequence. The token batches have lengths 4, 6 and 1, so padding is in every case.
@Suite("Regularization/gradients match finite differences with the masks fixed")
struct RegularizationGradientTests {
  /// The four cells (the activations' own derivatives are checked by GradientCheckTests).
  static let cells: [CellKind] = [.rnn(.tanh), .gated(.tanh), .lstm, .gru]

  enum Case: String, CaseIterable, CustomStringConvertible {
    case weightDrop, lockedDropout, embeddingDropout, all
    var description: String { rawValue }

    var regularization: Regularization {
      switch self {
      case .weightDrop: Regularization(weightDrop: 0.4)
      case .lockedDropout: Regularization(inputDropout: 0.3, hiddenDropout: 0.4, outputDropout: 0.35)
      case .embeddingDropout: Regularization(embeddingDropout: 0.4)
      case .all:
        Regularization(
          embeddingDropout: 0.3, inputDropout: 0.25, hiddenDropout: 0.3, outputDropout: 0.35, weightDrop: 0.4)
      }
    }
  }

  /// Expects `count` values of a mask to hold both a dropped 0 and a kept 1/(1 − p) > 1.
  static func expectDrops<S: RecurScalar>(_ pointer: UnsafeMutablePointer<S>, count: Int, _ what: String) {
    let values = Array(UnsafeBufferPointer(start: pointer, count: count))
    #expect(values.contains(0) && values.contains(where: { $0 > 1 }), "\(what) drops nothing or everything")
  }

  /// Expects the masks the last training pass in `ws` used: every regularizer of `r` ran and dropped something.
  static func expectMasks(
    _ ws: NetworkWorkspace<Double>, of net: RecurrentNetwork<Double>, batch: SequenceBatch<Double>, _ label: String
  ) {
    let r = net.configuration.regularization, layers = net.configuration.layers, hidden = net.configuration.hiddenSize
    let embedding = net.configuration.embeddingSize, directions = net.configuration.bidirectional ? 2 : 1
    let rows = batch.steps * batch.batchSize
    #expect(ws.stack.usedWeightDrop == (r.weightDrop > 0), "\(label) weight drop")
    if r.weightDrop > 0 {
      for l in 0..<layers {
        for d in 0..<directions {
          let count = net.stack.layers[l].weightHH.count
          expectDrops(ws.stack.weightMasks[2 * l + d].pointer, count: count, "\(label) M[\(l), \(d)]")
        }
      }
    }
    #expect(ws.usedEmbeddingDropout == (r.inputDropout > 0), "\(label) input dropout")
    if r.inputDropout > 0, let E = embedding { expectDrops(ws.embeddingMask.pointer, count: rows * E, "\(label) input") }
    for l in 1..<layers {
      #expect(ws.stack.usedDropout[l] == (r.hiddenDropout > 0), "\(label) hidden dropout \(l)")
      if r.hiddenDropout > 0 {
        expectDrops(ws.stack.masks[l].pointer, count: rows * directions * hidden, "\(label) hidden \(l)")
      }
    }
    #expect(ws.usedOutputDropout == (r.outputDropout > 0), "\(label) output dropout")
    #expect(ws.usedEmbeddingRowDropout == (r.embeddingDropout > 0), "\(label) embedding dropout")
    if r.embeddingDropout > 0, case .tokens(let ids) = batch.inputs {
      // A token of the batch is dropped and another kept: the mask reaches the loss.
      let mask = ws.embeddingRowMask.pointer
      #expect(ids.contains { mask[Int($0)] == 0 } && ids.contains { mask[Int($0)] > 1 }, "\(label) embedding rows")
    }
  }

  @Test("token models, 3 layers: weight drop, locked dropout, embedding dropout, all", arguments: Self.cells, Case.allCases)
  func tokenModels(cell: CellKind, regularizers: Case) throws {
    let V = 5, H = 4, E = 3, layers = 3
    let r = regularizers.regularization
    let config = RecurrentNetwork<Double>.Configuration.languageModel(
      cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: layers, regularization: r)
    let net = try RecurrentNetwork<Double>(config, seed: 23)
    let batch = try GradientCheckTests.tokenBatch(vocabulary: V, seed: 23)
    let maskSeed: UInt64 = 6  // its embedding-row masks (p 0.3 and 0.4) drop a token of the batch and keep another
    let workspace = NetworkWorkspace<Double>()
    let (trained, gradient) = try DropoutGradientTests.loss(net, batch, maskSeed: maskSeed, workspace: workspace)
    let label = "\(cell) \(regularizers)"
    Self.expectMasks(workspace, of: net, batch: batch, label)
    // Without a per-element input mask the bottom layer reads its projected token table (with embedding
    // dropout, the table of m ⊙ E): both paths are checked.
    #expect(workspace.usedTokenTable == (r.inputDropout == 0), "\(label) token table")
    #expect(abs(trained - (try net.loss(for: batch, loss: .crossEntropy)).loss) > 1e-7, "\(label): the masks change the loss")
    try expectParameterGradients(gradient, of: net, step: 1e-5, tolerance: 1e-5, label) {
      try DropoutGradientTests.loss($0, batch, maskSeed: maskSeed).loss
    }
  }

  @Test("weight drop on a bidirectional network of vectors (2 layers), with locked hidden and output dropout", arguments: Self.cells)
  func bidirectional(cell: CellKind) throws {
    let I = 3, H = 4, layers = 2
    let r = Regularization(hiddenDropout: 0.3, outputDropout: 0.3, weightDrop: 0.4)
    let config = RecurrentNetwork<Double>.Configuration(
      cell: cell, inputSize: I, hiddenSize: H, layers: layers, outputSize: 2, bidirectional: true, regularization: r)
    let net = try RecurrentNetwork<Double>(config, seed: 31)
    let batch = try GradientCheckTests.vectorBatch(features: I, outputs: 2, loss: .squaredError, seed: 31)
    let maskSeed: UInt64 = 9
    func pass(_ n: RecurrentNetwork<Double>, _ b: SequenceBatch<Double>, _ ws: NetworkWorkspace<Double>? = nil) throws
      -> (LossResult<Double>, RecurrentNetwork<Double>)
    {
      var gradient = n.zeros()
      var masks: SeededGenerator? = SeededGenerator(seed: maskSeed)
      let result = try n.accumulateGradient(
        for: b, loss: .squaredError, into: &gradient, workspace: ws, dropoutGenerator: &masks)
      return (result, gradient)
    }
    let workspace = NetworkWorkspace<Double>()
    let (result, gradient) = try pass(net, batch, workspace)
    let label = "bidirectional \(cell)"
    Self.expectMasks(workspace, of: net, batch: batch, label)
    // The two directions draw different masks.
    let count = net.stack.layers[0].weightHH.count
    for l in 0..<layers {
      #expect(
        Array(UnsafeBufferPointer(start: workspace.stack.weightMasks[2 * l].pointer, count: count))
          != Array(UnsafeBufferPointer(start: workspace.stack.weightMasks[2 * l + 1].pointer, count: count)))
    }
    try expectParameterGradients(gradient, of: net, step: 1e-5, tolerance: 1e-5, label) { try pass($0, batch).0.loss }
    try expectInputGradient(result.inputGradient, of: batch, step: 1e-5, tolerance: 1e-5, label) {
      try pass(net, $0).0.loss
    }
  }

  @Test("one target per sequence: output dropout on p_b, weight drop and hidden dropout", arguments: Self.cells, [SequenceReadout.last, .mean, .max])
  func finalTargets(cell: CellKind, readout: SequenceReadout) throws {
    let I = 3, H = 4, layers = 2, V = 3
    let r = Regularization(hiddenDropout: 0.3, outputDropout: 0.4, weightDrop: 0.4)
    let config = RecurrentNetwork<Double>.Configuration(
      cell: cell, inputSize: I, hiddenSize: H, layers: layers, outputSize: V, outputActivation: .softmax,
      regularization: r)
    let net = try RecurrentNetwork<Double>(config, seed: 41)
    var rng = SeededGenerator(seed: 41)
    let lengths = [5, 2, 4, 1]
    let xs = lengths.map { n in (0..<n).map { _ in (0..<I).map { _ in rng.nextNormal() } } }
    let batch = try SequenceBatch<Double>(inputs: xs, targets: xs.map { $0.map { _ in [0.0] } })
    let targets = FinalStepTargets<Double>.classes([2, 0, 1, 1])
    let maskSeed: UInt64 = 13
    func pass(_ n: RecurrentNetwork<Double>, _ ws: NetworkWorkspace<Double>? = nil) throws
      -> (LossResult<Double>, RecurrentNetwork<Double>)
    {
      var gradient = n.zeros()
      var masks: SeededGenerator? = SeededGenerator(seed: maskSeed)
      let result = try n.accumulateSequenceGradient(
        for: batch, targets: targets, readout: readout, loss: .crossEntropy, into: &gradient, workspace: ws,
        dropoutGenerator: &masks)
      return (result, gradient)
    }
    let workspace = NetworkWorkspace<Double>()
    let (result, gradient) = try pass(net, workspace)
    let label = "\(cell) \(readout)"
    Self.expectMasks(workspace, of: net, batch: batch, label)
    // Output dropout acted on the B vectors p_b the head read.
    Self.expectDrops(workspace.outputMask.pointer, count: batch.batchSize * H, "\(label) output mask")
    let plain = try net.sequenceLoss(for: batch, targets: targets, readout: readout, loss: .crossEntropy)
    #expect(abs(result.loss - plain.loss) > 1e-7, "\(label): the masks change the loss")
    try expectParameterGradients(gradient, of: net, step: 1e-5, tolerance: 1e-5, label) { try pass($0).0.loss }
  }
}

import Testing

@testable import Recur

/// Dropout's backward step checked the only way it can be: with the masks held fixed (every pass draws them
/// from a generator with the same seed), the loss is a smooth function of the parameters, and BPTT must give
/// its central finite differences in Double.
@Suite("Dropout/gradients match finite differences with the masks fixed")
struct DropoutGradientTests {
  /// J(W) with the dropout masks drawn from a generator seeded by `maskSeed`: the same masks on every call.
  static func loss(
    _ net: RecurrentNetwork<Double>, _ batch: SequenceBatch<Double>, maskSeed: UInt64,
    workspace: NetworkWorkspace<Double>? = nil
  ) throws -> (loss: Double, gradient: RecurrentNetwork<Double>) {
    var gradient = net.zeros()
    var masks: SeededGenerator? = SeededGenerator(seed: maskSeed)
    let result = try net.accumulateGradient(
      for: batch, loss: .crossEntropy, into: &gradient, workspace: workspace, dropoutGenerator: &masks)
    return (result.loss, gradient)
  }

  @Test(
    "on the embedding output and between layers (3 layers, p = 0.4)",
    arguments: [CellKind.rnn(.tanh), .gated(.tanh), .lstm, .gru])
  func dropoutGradients(cell: CellKind) throws {
    let V = 5
    let config = RecurrentNetwork<Double>.Configuration.languageModel(
      cell: cell, vocabularySize: V, embeddingSize: 3, hiddenSize: 4, layers: 3, dropout: 0.4)
    let net = try RecurrentNetwork<Double>(config, seed: 21)
    let batch = try GradientCheckTests.tokenBatch(vocabulary: V, seed: 21)
    let maskSeed: UInt64 = 17
    let workspace = NetworkWorkspace<Double>()
    let (trained, gradient) = try Self.loss(net, batch, maskSeed: maskSeed, workspace: workspace)

    // Dropout really ran at both places, and dropped something.
    #expect(workspace.usedEmbeddingDropout)
    let embeddingMask = Array(UnsafeBufferPointer(start: workspace.embeddingMask.pointer, count: batch.steps * batch.batchSize * 3))
    #expect(embeddingMask.contains(0) && embeddingMask.contains(where: { $0 > 1 }))
    for l in 1..<3 {
      #expect(workspace.stack.usedDropout[l])
      let mask = Array(UnsafeBufferPointer(start: workspace.stack.masks[l].pointer, count: batch.steps * batch.batchSize * 4))
      #expect(mask.contains(0) && mask.contains(where: { $0 > 1 }), "layer \(l)")
    }
    #expect(abs(trained - (try net.loss(for: batch, loss: .crossEntropy)).loss) > 1e-3, "the masks change the loss")

    // Gradients reaching the bottom layer through two dropped-out layers are small: a step of 1e-5 keeps the
    // rounding of the differences well below the tolerance (a missing mask is off by tens of percent).
    try expectParameterGradients(gradient, of: net, step: 1e-5, tolerance: 1e-5, "\(cell)") {
      try Self.loss($0, batch, maskSeed: maskSeed).loss
    }
  }
}

import Testing

@testable import Recur

/// The regularizers' buffers in the training-memory estimate: what a training pass with weight drop, locked
/// and output dropout and embedding dropout reserves beyond a pass without them is exactly what
/// ``RecurrentNetwork/Configuration/trainingMemory(batch:steps:)`` adds for them.
@Suite("Runs/regularizers in the memory estimate")
struct RegularizationMemoryTests {
  @Test("weight drop, output and embedding dropout: the extra buffers a pass reserves are the estimate's extra bytes", arguments: ["lstm", "gru", "rnn", "gated"])
  func extraBuffersAreEstimated(cellName: String) throws {
    let cell = try #require(CellKind(cellName))
    let V = 7, B = 4, T = 6, H = 5, E = 3, L = 2
    // Hidden dropout reuses the buffers between layers that plain dropout has (already in the estimate).
    let regularization = Regularization(embeddingDropout: 0.2, hiddenDropout: 0.3, outputDropout: 0.3, weightDrop: 0.4)
    let plainConfig = RecurrentNetwork<Float>.Configuration.languageModel(
      cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: L, dropout: 0.2)
    var config = plainConfig
    config.dropout = 0
    config.regularization = regularization
    let network = try RecurrentNetwork<Float>(config, seed: 1)
    var rng = SeededGenerator(seed: 2)
    let tokens = (0..<B).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(V)) } }
    let batch = try SequenceBatch<Float>(tokens: tokens, targets: tokens)
    var gradient = network.zeros()
    let ws = NetworkWorkspace<Float>()
    var masks: SeededGenerator? = SeededGenerator(seed: 3)
    _ = try network.accumulateGradient(for: batch, loss: .crossEntropy, into: &gradient, workspace: ws, dropoutGenerator: &masks)
    #expect(ws.stack.usedWeightDrop && ws.usedOutputDropout && ws.usedEmbeddingRowDropout)

    // Every regularizer buffer has the layout's size.
    let layout = LayerCacheLayout(cell: cell.cell, hidden: H, steps: T, batch: B)
    var extra = 0
    for l in 0..<L {
      #expect(ws.stack.caches[l].droppedWeightGradient.capacity == layout.recurrentWeight, "layer \(l) dJ/d(M ⊙ W_hh)")
      #expect(ws.stack.droppedWeights[2 * l].capacity == layout.recurrentWeight, "layer \(l) M ⊙ W_hh")
      #expect(ws.stack.weightMasks[2 * l].capacity == layout.recurrentWeight, "layer \(l) M")
      extra += ws.stack.caches[l].droppedWeightGradient.capacity + ws.stack.droppedWeights[2 * l].capacity
        + ws.stack.weightMasks[2 * l].capacity
    }
    #expect(ws.droppedTop.capacity == T * B * H && ws.outputMask.capacity == T * B * H)
    #expect(ws.embeddingRowMask.capacity == V)
    // The batch has more tokens than the vocabulary and no per-element input mask: the bottom layer reads the
    // dropped table m ⊙ E through its projected token table.
    #expect(ws.usedTokenTable)
    #expect(ws.droppedEmbedding.capacity == V * E && ws.droppedEmbeddingGradient.capacity == V * E)
    extra += ws.droppedTop.capacity + ws.outputMask.capacity + ws.embeddingRowMask.capacity
      + ws.droppedEmbedding.capacity + ws.droppedEmbeddingGradient.capacity

    // The estimate with the regularizers exceeds the estimate with plain dropout by exactly those buffers.
    let difference = config.trainingMemory(batch: B, steps: T) - plainConfig.trainingMemory(batch: B, steps: T)
    #expect(difference == Double(extra * MemoryLayout<Float>.stride))
  }
}

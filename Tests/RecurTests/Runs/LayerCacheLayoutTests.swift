import Testing

@testable import Recur

/// The memory estimate of a training run reads the layer caches' layout; the sequence driver reserves its
/// buffers with the same layout. These tests hold the driver to it: after a forward and backward pass, every
/// buffer of every layer has exactly the capacity the layout gives (1 for a buffer the pass does not use).
@Suite("Runs/layer cache layout")
struct LayerCacheLayoutTests {
  func capacities(_ cache: LayerCache<Float>) -> [String: Int] {
    [
      "xp": cache.xp.capacity, "h": cache.h.capacity, "c": cache.c.capacity, "cache": cache.cache.capacity,
      "hp": cache.hp.capacity, "dxp": cache.dxp.capacity, "dhp": cache.dhp.capacity, "dh": cache.dh.capacity,
      "dc": cache.dc.capacity, "dhPrev": cache.dhPrev.capacity, "dcPrev": cache.dcPrev.capacity,
      "packedWeight": cache.packedWeight.capacity, "tokenRows": cache.tokenRows.capacity, "bias": cache.bias.capacity,
      "droppedWeightGradient": cache.droppedWeightGradient.capacity,
    ]
  }

  func expected(_ layout: LayerCacheLayout, tokens: Int?) -> [String: Int] {
    let counts = [
      "xp": layout.projections, "h": layout.states, "c": layout.hasMemoryCell ? layout.states : 0,
      "cache": layout.cellCache, "hp": layout.stepProjection, "dxp": layout.projections,
      "dhp": layout.recurrentGradients, "dh": layout.runningGradient, "dc": layout.runningGradient,
      "dhPrev": layout.runningGradient, "dcPrev": layout.runningGradient,
      "packedWeight": max(layout.packedForward(Float.self), layout.packedBackward(Float.self)),
      "tokenRows": tokens.map { layout.tokenRows(vocabulary: $0) } ?? 0, "bias": layout.bias,
      "droppedWeightGradient": 0,  // weight drop only (RegularizationMemoryTests)
    ]
    return counts.mapValues { max($0, 1) }
  }

  @Test("every layer's buffers are the layout's sizes after a training pass", arguments: ["lstm", "gru", "rnn", "gated"])
  func driverReservesTheLayout(cellName: String) throws {
    let cell = try #require(CellKind(cellName))
    let V = 7, B = 4, T = 6, H = 5
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: cell, vocabularySize: V, embeddingSize: 3, hiddenSize: H, layers: 2), seed: 1)
    var rng = SeededGenerator(seed: 2)
    let tokens = (0..<B).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(V)) } }
    let batch = try SequenceBatch<Float>(tokens: tokens, targets: tokens)
    var gradient = network.zeros()
    let workspace = NetworkWorkspace<Float>()
    var noDropout: SeededGenerator? = nil
    _ = try network.accumulateGradient(
      for: batch, loss: .crossEntropy, into: &gradient, workspace: workspace, dropoutGenerator: &noDropout)
    let layout = LayerCacheLayout(cell: cell.cell, hidden: H, steps: T, batch: B)
    // T·B = 24 tokens over V = 7: the bottom layer reads them through its token table.
    #expect(capacities(workspace.stack.caches[0]) == expected(layout, tokens: V))
    #expect(capacities(workspace.stack.caches[1]) == expected(layout, tokens: nil))
  }
}

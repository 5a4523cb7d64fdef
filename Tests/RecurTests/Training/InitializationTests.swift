import Testing

@testable import Recur

@Suite("Initialization schemes")
struct InitializationTests {
  /// The largest |(M Mᵀ − I)_ij| of each H × H block, or of (Mᵀ M − I) for a tall H × I block.
  static func orthogonalityError(_ t: Tensor<Float>, blocks: Int) -> Double {
    let rows = t.shape[0] / blocks, columns = t.shape[1]
    let n = min(rows, columns)
    var worst = 0.0
    for k in 0..<blocks {
      func entry(_ r: Int, _ c: Int) -> Double { Double(t[k * rows + r, c]) }
      for i in 0..<n {
        for j in 0..<n {
          var dot = 0.0
          if rows <= columns {
            for c in 0..<columns { dot += entry(i, c) * entry(j, c) }
          } else {
            for r in 0..<rows { dot += entry(r, i) * entry(r, j) }
          }
          worst = max(worst, abs(dot - (i == j ? 1 : 0)))
        }
      }
    }
    return worst
  }

  @Test("orthogonal recurrent blocks are orthogonal, input blocks semi-orthogonal")
  func orthogonal() throws {
    var net = try RecurrentNetwork<Float>(.init(cell: .lstm, inputSize: 3, hiddenSize: 6, layers: 2, outputSize: 2))
    var rng = SeededGenerator(seed: 7)
    try net.initialize(
      Initialization(inputWeights: .orthogonal, recurrentWeights: .orthogonal, zeroBiases: true), generator: &rng)
    for layer in net.stack.layers {
      #expect(Self.orthogonalityError(layer.weightHH, blocks: 4) < 1e-6)
      #expect(Self.orthogonalityError(layer.weightIH, blocks: 4) < 1e-6)
      #expect(layer.biasIH.scalars.allSatisfy { $0 == 0 } && layer.biasHH.scalars.allSatisfy { $0 == 0 })
    }
    // Distinct blocks, not one block repeated.
    let w = net.stack.layers[0].weightHH.scalars
    #expect(Array(w[0..<36]) != Array(w[36..<72]))
    // A wide block (H × I with I > H) has orthonormal rows.
    let wide = RecurrentNetwork<Float>.drawBlocks(
      .orthogonal, blocks: 1, rows: 3, columns: 7, defaultBound: 1, generator: &rng)
    #expect(Self.orthogonalityError(wide, blocks: 1) < 1e-6)
  }

  @Test("Xavier bounds, forget-gate bias 1, and a clear error for cells without a forget gate")
  func xavierAndForgetBias() throws {
    var net = try RecurrentNetwork<Float>(.init(cell: .lstm, inputSize: 10, hiddenSize: 4, outputSize: 3))
    var rng = SeededGenerator(seed: 1)
    var scheme = Initialization.xavier
    scheme.forgetGateBias = 1
    try net.initialize(scheme, generator: &rng)
    let layer = net.stack.layers[0]
    let bound = Float((6.0 / 14.0).squareRoot())
    #expect(layer.weightIH.scalars.allSatisfy { abs($0) <= bound })
    #expect(layer.weightIH.scalars.contains { abs($0) > bound / 2 })
    for j in 0..<16 {
      let forget = (4..<8).contains(j)
      #expect(layer.biasIH.scalars[j] == (forget ? 1 : 0))
      #expect(layer.biasHH.scalars[j] == 0)
    }
    var gru = try RecurrentNetwork<Float>(.init(cell: .gru, inputSize: 2, hiddenSize: 3, outputSize: 1))
    #expect(throws: ModelError("a forget-gate bias needs an LSTM, not gru")) {
      try gru.initialize(Initialization(forgetGateBias: 1), generator: &rng)
    }
  }
}

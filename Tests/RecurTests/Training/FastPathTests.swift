import Testing

@testable import Recur

/// The speed paths of training: W_hh packed once per pass, the bottom layer reading tokens through its
/// projected table, and the standalone layer pass of the benchmarks.
@Suite("Training fast paths")
struct FastPathTests {
  /// op(B) packed once gives bitwise the product of the plain GEMM, on one thread and on two.
  @Test("packed GEMM equals GEMM bitwise", arguments: [(2, 17, 5), (7, 33, 300), (50, 512, 128), (16, 128, 520)])
  func packedGEMM(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for transposeA in [false, true] {
      for transposeB in [false, true] {
        let a = kernelRandom(m * k, seed: 1), b = kernelRandom(k * n, seed: 2), c0 = kernelRandom(m * n, seed: 3)
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        var expected = c0
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            expected.withUnsafeMutableBufferPointer { pc in
              Compute.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!,
                lda: lda, b: pb.baseAddress!, ldb: ldb, beta: 0.25, c: pc.baseAddress!, ldc: n, threads: 1)
            }
          }
        }
        let packed = Buffer<Float>()
        let p = packed.reserve(Float.packedMatrixCount(n: n, k: k))
        b.withUnsafeBufferPointer { Float.packMatrix(transposeB: transposeB, n: n, k: k, b: $0.baseAddress!, ldb: ldb, packed: p) }
        for threads in [1, 2] {
          var c = c0
          a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer { pc in
              Compute.sgemmPacked(
                transposeA: transposeA, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda, packed: p,
                beta: 0.25, c: pc.baseAddress!, ldc: n, threads: threads)
            }
          }
          #expect(c == expected, "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB) threads \(threads)")
        }
      }
    }
  }

  /// A language model on tokens (more tokens than the vocabulary: the table path) has the gradient of the
  /// same network fed the embedding rows as vectors, and dE is the sum of those rows' input gradients.
  @Test("token-table path matches embedded vector inputs", arguments: [CellKind.lstm, .gru, .rnn(.tanh)])
  func tokenTable(cell: CellKind) throws {
    let V = 6, E = 5, H = 7, T = 9, B = 4
    let lm = try RecurrentNetwork<Float>(
      .languageModel(cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: 2), seed: 3)
    var vectorNet = try RecurrentNetwork<Float>(
      .init(cell: cell, inputSize: E, hiddenSize: H, layers: 2, outputSize: V, outputActivation: .softmax), seed: 4)
    vectorNet.stack = lm.stack
    vectorNet.headWeight = lm.headWeight
    vectorNet.headBias = lm.headBias
    var rng = SeededGenerator(seed: 5)
    let ids = (0..<(T * B)).map { _ in Int32(rng.next() % UInt64(V)) }
    let targets = (0..<(T * B)).map { _ in Int32(rng.next() % UInt64(V)) }
    let table = lm.embedding!.scalars
    let vectors = ids.flatMap { table[Int($0) * E..<(Int($0) + 1) * E] }
    let tokenBatch = try SequenceBatch<Float>(steps: T, batchSize: B, inputs: .tokens(ids), targets: .classes(targets))
    let vectorBatch = try SequenceBatch<Float>(
      steps: T, batchSize: B, inputs: .vectors(vectors, features: E), targets: .classes(targets))
    let (tokenResult, tokenGradient) = try lm.gradient(for: tokenBatch, loss: .crossEntropy)
    let (vectorResult, vectorGradient) = try vectorNet.gradient(for: vectorBatch, loss: .crossEntropy)
    #expect(abs(tokenResult.loss - vectorResult.loss) < 1e-5)
    for ((name, a), (_, b)) in zip(tokenGradient.stack.namedParameters, vectorGradient.stack.namedParameters) {
      #expect(relativeFrobeniusError(a.scalars, b.scalars) < 1e-5, "\(name)")
    }
    #expect(relativeFrobeniusError(tokenGradient.headWeight.scalars, vectorGradient.headWeight.scalars) < 1e-5)
    var expected = [Float](repeating: 0, count: V * E)
    let dx = vectorResult.inputGradient!.scalars
    for (r, id) in ids.enumerated() { for j in 0..<E { expected[Int(id) * E + j] += dx[r * E + j] } }
    #expect(relativeFrobeniusError(tokenGradient.embedding!.scalars, expected) < 1e-5)
  }

  /// trainingPass back-propagates L = Σ_t ⟨h_t, dOut_t⟩: its gradients match finite differences (Double),
  /// and shapes that do not fit throw.
  @Test("standalone layer pass: gradients by finite differences, shape errors")
  func layerPass() throws {
    let I = 3, H = 4, T = 5, B = 2
    var rng = SeededGenerator(seed: 9)
    let layer = RecurrentLayer<Double>(kind: .lstm, inputSize: I, hiddenSize: H, generator: &rng)
    let x = Tensor<Double>.normal(shape: [T, B, I], using: &rng)
    let dOut = Tensor<Double>.normal(shape: [T, B, H], using: &rng)
    let workspace = LayerWorkspace<Double>()
    func loss(_ l: RecurrentLayer<Double>, _ x: Tensor<Double>) throws -> Double {
      var g = l
      g.weightIH.zero()
      var dx = Tensor<Double>(shape: [T, B, I])
      try l.trainingPass(input: x, outputGradient: dOut, workspace: workspace, gradient: &g, inputGradient: &dx)
      let h = l.outputs(batch: B, steps: T, workspace: workspace)
      return zip(h.scalars, dOut.scalars).reduce(0) { $0 + $1.0 * $1.1 }
    }
    var gradient = RecurrentLayer<Double>(kind: .lstm, inputSize: I, hiddenSize: H, generator: &rng)
    gradient.weightIH.zero(); gradient.weightHH.zero(); gradient.biasIH.zero(); gradient.biasHH.zero()
    var dx = Tensor<Double>(shape: [T, B, I])
    try layer.trainingPass(input: x, outputGradient: dOut, workspace: workspace, gradient: &gradient, inputGradient: &dx)
    let eps = 1e-6
    for i in [0, 5, 17, 40] {
      var plus = layer, minus = layer
      plus.weightHH.scalars[i] += eps
      minus.weightHH.scalars[i] -= eps
      let numeric = (try loss(plus, x) - loss(minus, x)) / (2 * eps)
      #expect(abs(numeric - gradient.weightHH.scalars[i]) < 1e-6)
    }
    for i in [0, 7, 29] {
      var plus = x, minus = x
      plus.scalars[i] += eps
      minus.scalars[i] -= eps
      let numeric = (try loss(layer, plus) - loss(layer, minus)) / (2 * eps)
      #expect(abs(numeric - dx.scalars[i]) < 1e-6)
    }
    let wrong = Tensor<Double>(shape: [T, B, I + 1])
    var wrongGradient = wrong
    #expect(throws: ModelError.self) {
      try layer.trainingPass(
        input: wrong, outputGradient: dOut, workspace: workspace, gradient: &gradient, inputGradient: &wrongGradient)
    }
  }

  /// The time loop split by batch rows across threads (one part per thread for the whole pass) gives
  /// bitwise the states, dL/ds_0 and every gradient of the unsplit loop, with sequences of different
  /// lengths, a given initial state and a loss on the final state.
  @Test("time loop split by batch rows: bitwise equal to one part", arguments: [CellKind.lstm, .gru, .rnn(.tanh), .gated(.tanh)])
  func rowSplit(cell: CellKind) {
    let I = 5, H = 24, T = 11, B = 13
    var rng = SeededGenerator(seed: 21)
    let layer = RecurrentLayer<Float>(kind: cell, inputSize: I, hiddenSize: H, generator: &rng)
    let x = Tensor<Float>.normal(shape: [T, B, I], using: &rng).scalars
    let dOut = Tensor<Float>.normal(shape: [T, B, H], using: &rng).scalars
    let h0 = Tensor<Float>.normal(shape: [B, H], using: &rng).scalars
    let dFinal = Tensor<Float>.normal(shape: [B, H], using: &rng).scalars
    let lengths = (0..<B).map { b in b == 4 ? T : 1 + Int(rng.next() % UInt64(T)) }
    func run(parts: Int) -> (h: [Float], dh0: [Float], gradient: RecurrentLayer<Float>, dx: [Float]) {
      let cache = LayerCache<Float>()
      var gradient = layer
      gradient.weightIH.zero(); gradient.weightHH.zero(); gradient.biasIH.zero(); gradient.biasHH.zero()
      var dx = [Float](repeating: 0, count: T * B * I)
      x.withUnsafeBufferPointer { x in
        h0.withUnsafeBufferPointer { h0 in
          layer.forward(
            input: x.baseAddress!, steps: T, batch: B, lengths: lengths, initialH: h0.baseAddress!,
            initialC: h0.baseAddress!, cache: cache, rowParts: parts)
        }
        dOut.withUnsafeBufferPointer { dOut in
          dFinal.withUnsafeBufferPointer { dFinal in
            dx.withUnsafeMutableBufferPointer { dx in
              layer.backward(
                input: x.baseAddress!, steps: T, batch: B, lengths: lengths, outputGradient: dOut.baseAddress!,
                finalHGradient: dFinal.baseAddress!, finalCGradient: dFinal.baseAddress!, cache: cache,
                gradient: &gradient, inputGradient: dx.baseAddress!, deltaNorms: nil, rowParts: parts)
            }
          }
        }
      }
      let h = Array(UnsafeBufferPointer(start: cache.h.pointer, count: (T + 1) * B * H))
      let dh0 = Array(UnsafeBufferPointer(start: cache.dh.pointer, count: B * H))
      return (h, dh0, gradient, dx)
    }
    let whole = run(parts: 1)
    #expect(whole.gradient.weightHH.scalars.contains { $0 != 0 })
    for parts in [2, 3] {
      let split = run(parts: parts)
      #expect(split.h == whole.h, "states, \(parts) parts")
      #expect(split.dh0 == whole.dh0, "dL/ds_0, \(parts) parts")
      #expect(split.gradient == whole.gradient, "parameter gradients, \(parts) parts")
      #expect(split.dx == whole.dx, "input gradients, \(parts) parts")
    }
    // The split needs packed weights, several rows per part and enough work to pay for waking a thread.
    #expect(RowSplit.parts(batch: 3, steps: 1000, rowWork: 1e6, packed: true) == 1)
    #expect(RowSplit.parts(batch: 64, steps: 1000, rowWork: 1e6, packed: false) == 1)
    #expect(RowSplit.parts(batch: 64, steps: 2, rowWork: 100, packed: true) == 1)
    #expect(RowSplit.parts(batch: 64, steps: 1000, rowWork: 1e6, packed: true) == min(Compute.threadCount, 16))
  }
}

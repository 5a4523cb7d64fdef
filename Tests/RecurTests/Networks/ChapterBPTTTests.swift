import Testing

@testable import Recur

/// The chapter's section "Back-propagation through time", written out by hand in plain loops, against the
/// library's BPTT: the same δ^{s_t} recursion, the weight gradients, and the offsets W^{ss}_0 and W^o_0 (the
/// chapter's study question).
@Suite("The chapter's BPTT, derived by hand")
struct ChapterBPTTTests {
  typealias Vector = [Double]
  typealias Matrix = [[Double]]

  static func matVec(_ m: Matrix, _ v: Vector) -> Vector { m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }
  static func transposeVec(_ m: Matrix, _ v: Vector) -> Vector {
    (0..<m[0].count).map { j in (0..<m.count).reduce(0) { $0 + m[$1][j] * v[$1] } }
  }
  static func matrix(_ t: Tensor<Double>) -> Matrix {
    (0..<t.rows).map { r in Array(t.scalars[(r * t.columns)..<((r + 1) * t.columns)]) }
  }

  @Test("δ^{s_t}, dW^{ss}, dW^{sx}, dW^o and the offsets W^{ss}_0, W^o_0")
  func handDerivation() throws {
    let l = 3, m = 4, v = 5, n = 6
    let net = try RecurrentNetwork<Double>(
      .init(cell: .rnn(.tanh), inputSize: l, hiddenSize: m, outputSize: v, outputActivation: .softmax), seed: 3)
    var rng = SeededGenerator(seed: 5)
    let xs: [Vector] = (0..<n).map { _ in (0..<l).map { _ in rng.nextNormal() } }
    let labels: [Int] = (0..<n).map { _ in Int(rng.next() % UInt64(v)) }

    let layer = net.stack.layers[0]
    let Wsx = Self.matrix(layer.weightIH), Wss = Self.matrix(layer.weightHH), Wo = Self.matrix(net.headWeight)
    let W0ss = zip(layer.biasIH.scalars, layer.biasHH.scalars).map { $0 + $1 }
    let W0o = net.headBias.scalars

    // Forward: z^1_t = W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0, s_t = tanh(z^1_t), z^2_t = W^o s_t + W^o_0, g_t = softmax.
    var s: [Vector] = [Vector(repeating: 0, count: m)]
    var g: [Vector] = []
    var total = 0.0
    for t in 0..<n {
      let a = Self.matVec(Wsx, xs[t]), b = Self.matVec(Wss, s[t])
      var z1 = Vector(repeating: 0, count: m)
      for i in 0..<m { z1[i] = a[i] + b[i] + W0ss[i] }
      s.append(z1.map { Foundation.tanh($0) })
      let z2 = zip(Self.matVec(Wo, s[t + 1]), W0o).map { $0 + $1 }
      let mx = z2.max()!
      let e = z2.map { Foundation.exp($0 - mx) }
      let sum = e.reduce(0, +)
      g.append(e.map { $0 / sum })
      total += -Foundation.log(g[t][labels[t]])
    }

    // Backward, exactly as the chapter: δ^{s_n} = 0 and, for t = n … 1,
    // ∂L_t/∂z^2_t = g_t − y_t, ∂L_t/∂s_t = W^{oT} (g_t − y_t),
    // dz^1_t = f_s'(z^1_t) ∗ (∂L_t/∂s_t + δ^{s_t}),  δ^{s_{t-1}} = W^{ssT} dz^1_t.
    var dWsx = Matrix(repeating: Vector(repeating: 0, count: l), count: m)
    var dWss = Matrix(repeating: Vector(repeating: 0, count: m), count: m)
    var dWo = Matrix(repeating: Vector(repeating: 0, count: m), count: v)
    var dW0ss = Vector(repeating: 0, count: m), dW0o = Vector(repeating: 0, count: v)
    var delta = Vector(repeating: 0, count: m)
    var deltaNorms = Vector(repeating: 0, count: n)
    for t in stride(from: n - 1, through: 0, by: -1) {
      deltaNorms[t] = delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
      var gMinusY = g[t]
      gMinusY[labels[t]] -= 1
      let dLds = Self.transposeVec(Wo, gMinusY)
      var dz1 = Vector(repeating: 0, count: m)
      for i in 0..<m {
        let state: Double = s[t + 1][i]
        let derivative: Double = 1 - state * state
        dz1[i] = derivative * (dLds[i] + delta[i])
      }
      for i in 0..<m {
        for j in 0..<l { dWsx[i][j] += dz1[i] * xs[t][j] }
        for j in 0..<m { dWss[i][j] += dz1[i] * s[t][j] }
        dW0ss[i] += dz1[i]
      }
      for k in 0..<v {
        for j in 0..<m { dWo[k][j] += gMinusY[k] * s[t + 1][j] }
        dW0o[k] += gMinusY[k]
      }
      delta = Self.transposeVec(Wss, dz1)
    }

    let batch = try SequenceBatch<Double>(
      steps: n, batchSize: 1, inputs: .vectors(xs.flatMap { $0 }, features: l), targets: .classes(labels.map(Int32.init)))
    var grad = net.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try net.accumulateGradient(
      for: batch, loss: .crossEntropy, reduction: .sum, into: &grad, dropoutGenerator: &noDropout,
      recordFutureLossGradients: true)

    expectClose(result.loss, total, relativeTolerance: 1e-12, "L_seq")
    expectClose(grad.stack.layers[0].weightIH.scalars, dWsx.flatMap { $0 }, relativeTolerance: 1e-12, "dW^sx")
    expectClose(grad.stack.layers[0].weightHH.scalars, dWss.flatMap { $0 }, relativeTolerance: 1e-12, "dW^ss")
    expectClose(grad.headWeight.scalars, dWo.flatMap { $0 }, relativeTolerance: 1e-12, "dW^o")
    // The offsets: dW^{ss}_0 = Σ_t dz^1_t reaches both PyTorch biases; dW^o_0 = Σ_t (g_t − y_t).
    expectClose(grad.stack.layers[0].biasIH.scalars, dW0ss, relativeTolerance: 1e-12, "dW^ss_0 (bias_ih)")
    expectClose(grad.stack.layers[0].biasHH.scalars, dW0ss, relativeTolerance: 1e-12, "dW^ss_0 (bias_hh)")
    expectClose(grad.headBias.scalars, dW0o, relativeTolerance: 1e-12, "dW^o_0")
    // ‖δ^{s_t}‖, with δ^{s_n} = 0.
    let norms = try #require(result.futureLossGradientNorms)
    #expect(norms[0].last == 0)
    expectClose(norms[0], deltaNorms, relativeTolerance: 1e-12, "‖δ^{s_t}‖")
  }
}

import Foundation

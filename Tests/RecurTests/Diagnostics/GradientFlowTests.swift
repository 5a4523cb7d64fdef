import Foundation
import Testing

@testable import Recur

@Suite("Gradient flow through time (loss at the last step only)")
struct GradientFlowTests {
  static func batch(features: Int, lengths: [Int], seed: UInt64) throws -> SequenceBatch<Double> {
    var rng = SeededGenerator(seed: seed)
    let T = lengths.max()!, B = lengths.count
    let x = (0..<(T * B * features)).map { _ in rng.nextNormal() }
    return try SequenceBatch(
      steps: T, batchSize: B, lengths: lengths, inputs: .vectors(x, features: features),
      targets: .classes(Array(repeating: -1, count: T * B)))
  }

  @Test(
    "last-step loss gradients match finite differences",
    arguments: [
      (CellKind.rnn(.tanh), ElementLoss.squaredError, OutputActivation.identity),
      (CellKind.gated(.tanh), .squaredError, .tanh), (CellKind.lstm, .binaryCrossEntropy, .sigmoid),
      (CellKind.gru, .crossEntropy, .softmax),
    ])
  func finiteDifferences(cell: CellKind, loss: ElementLoss, output: OutputActivation) throws {
    let V = 3
    var net = try RecurrentNetwork<Double>(
      .init(cell: cell, inputSize: 2, hiddenSize: 4, layers: 2, outputSize: V, outputActivation: output), seed: 7)
    let batch = try Self.batch(features: 2, lengths: [5, 3, 4], seed: 3)
    var rng = SeededGenerator(seed: 11)
    let targets: FinalStepTargets<Double> =
      loss == .crossEntropy
      ? .classes([2, 0, 1])
      : .values((0..<(3 * V)).map { _ in loss == .binaryCrossEntropy ? Double(rng.next() & 1) : rng.nextNormal() }, width: V)
    var gradient: RecurrentNetwork<Double>? = net.zeros()
    _ = try net.finalStepLoss(for: batch, targets: targets, loss: loss, gradient: &gradient)
    var none: RecurrentNetwork<Double>? = nil
    var analytic: [Double] = [], numeric: [Double] = []
    let names = net.namedParameters.map(\.name)
    for name in names {
      let count = net.namedParameters.first { $0.name == name }!.tensor.count
      for i in stride(from: 0, to: count, by: max(1, count / 5)) {
        func perturbed(_ delta: Double) throws -> Double {
          var copy = net
          copy.updateEachParameter { n, t in if n == name { t.scalars[i] += delta } }
          return try copy.finalStepLoss(for: batch, targets: targets, loss: loss, gradient: &none).loss
        }
        let h = 1e-6
        numeric.append((try perturbed(h) - perturbed(-h)) / (2 * h))
        analytic.append(gradient!.namedParameters.first { $0.name == name }!.tensor.scalars[i])
      }
    }
    expectClose(analytic, numeric, relativeTolerance: 1e-6, "\(cell)")
    net.zeroAll()
  }

  @Test("a short sequence's loss is taken at its own last step and its gradient carried unchanged through padding")
  func ownLastStep() throws {
    let net = try RecurrentNetwork<Double>(.init(cell: .rnn(.tanh), inputSize: 2, hiddenSize: 3, outputSize: 1), seed: 1)
    let padded = try Self.batch(features: 2, lengths: [6, 3], seed: 5)
    guard case .vectors(let x, _) = padded.inputs else { return }
    // Sequence b alone, n steps (rows t·B + b of the time-major storage).
    func column(_ b: Int, _ n: Int) throws -> SequenceBatch<Double> {
      var values: [Double] = []
      for t in 0..<n {
        let row: Int = t * 2 + b
        values.append(x[row * 2])
        values.append(x[row * 2 + 1])
      }
      return try SequenceBatch<Double>(
        steps: n, batchSize: 1, inputs: .vectors(values, features: 2), targets: .classes(Array(repeating: -1, count: n)))
    }
    let alone = try column(1, 3)
    var none: RecurrentNetwork<Double>? = nil
    let both = try net.finalStepLoss(
      for: padded, targets: .values([0.5, -0.25], width: 1), loss: .squaredError, gradient: &none,
      recordFutureLossGradients: true)
    let single = try net.finalStepLoss(
      for: alone, targets: .values([-0.25], width: 1), loss: .squaredError, gradient: &none,
      recordFutureLossGradients: true)
    let first = try net.finalStepLoss(
      for: try column(0, 6),
      targets: .values([0.5], width: 1), loss: .squaredError, gradient: &none, recordFutureLossGradients: true)
    expectClose(both.loss, (single.loss + first.loss) / 2, relativeTolerance: 1e-12)
    // Norms over the batch (each sequence's gradient scaled by 1/B): at padded steps 4…6 the short sequence's
    // state is carried unchanged, so its gradient there is ∂L/∂s_3.
    let b = both.futureLossGradientNorms![0], s = single.futureLossGradientNorms![0], f = first.futureLossGradientNorms![0]
    for t in 0..<6 {
      let shortPart: Double = t < 3 ? s[t] * s[t] : s[2] * s[2]
      let expected: Double = ((f[t] * f[t] + shortPart) / 4).squareRoot()
      expectClose(b[t], expected, relativeTolerance: 1e-10, "step \(t + 1)")
    }
  }

  @Test("the profile is ‖δ^{s_t}‖ computed by hand for a one-unit RNN")
  func oneUnitByHand() throws {
    // s_t = tanh(w s_{t-1} + u x_t + b), y = v s_n + c; L = (y − target)², so ∂L/∂s_t = 2(y − target) v Π_{k>t} w (1 − s_k²).
    var net = try RecurrentNetwork<Double>(.init(cell: .rnn(.tanh), inputSize: 1, hiddenSize: 1, outputSize: 1), seed: 0)
    let (w, u, b, v, c) = (0.8, 0.5, 0.1, 1.5, -0.2)
    net.stack.layers[0].weightHH.scalars = [w]
    net.stack.layers[0].weightIH.scalars = [u]
    net.stack.layers[0].biasIH.scalars = [b]
    net.stack.layers[0].biasHH.scalars = [0]
    net.headWeight.scalars = [v]
    net.headBias.scalars = [c]
    let x = [0.3, -1.0, 0.7, 0.2, -0.4]
    var s = [0.0]
    for xt in x { s.append(Foundation.tanh(w * s.last! + u * xt + b)) }
    let target = 0.25
    let dy = 2 * (v * s.last! + c - target)
    var expected = [Double](repeating: 0, count: x.count)
    var grad = dy * v
    for t in stride(from: x.count, through: 1, by: -1) {
      expected[t - 1] = abs(grad)
      grad *= w * (1 - s[t] * s[t])
    }
    let batch = try SequenceBatch<Double>(steps: 5, batchSize: 1, inputs: .vectors(x, features: 1), targets: .classes([-1, -1, -1, -1, -1]))
    let profile = try GradientFlow.profile(of: net, on: batch, targets: .values([target], width: 1), loss: .squaredError)
    expectClose(profile.norms, expected, relativeTolerance: 1e-12)
    expectClose(profile.relativeNorms.last!, 1, relativeTolerance: 0)
  }

  @Test("untrained comparison: the chapter's RNN attenuates, every profile is finite, the table and plot list every cell")
  func comparison() throws {
    let profiles = try GradientFlow.compareUntrained(length: 30, hiddenSize: 16, batchSize: 4, seed: 3)
    #expect(profiles.map(\.name) == ["rnn_tanh", "gated_tanh", "lstm", "gru"])
    for p in profiles {
      #expect(p.norms.count == 30)
      #expect(p.norms.allSatisfy { $0.isFinite && $0 >= 0 })
    }
    // With PyTorch's initialization the plain RNN's recurrent Jacobian has norm well below 1.
    #expect(GradientFlow.attenuation(profiles[0]) < 1e-3)
    let table = GradientFlow.table(profiles, every: 10)
    #expect(table.split(separator: "\n").count == 1 + 4)  // header, t = 1, 10, 20, 30
    let svg = try GradientFlow.plot(profiles, title: "δ").svg()
    for p in profiles { #expect(svg.contains(">\(p.name)</text>")) }
  }
}

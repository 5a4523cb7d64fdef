import Foundation
import Testing

@testable import Recur

/// Bidirectional stacks: BPTT against central finite differences in Double, for every cell, 1 and 2 layers,
/// a masked batch of lengths 5, 2, 4, 1 (the reverse direction starting at each sequence's own last step),
/// per-step losses with initial states and a loss on the final states, and one target per sequence.
@Suite("Bidirectional layers: gradients match finite differences")
struct BidirectionalGradientTests {
  static let lengths = [5, 2, 4, 1]

  static func network(cell: CellKind, layers: Int, outputs: Int, activation: OutputActivation, seed: UInt64) throws
    -> RecurrentNetwork<Double>
  {
    try RecurrentNetwork<Double>(
      .init(cell: cell, inputSize: 3, hiddenSize: 4, layers: layers, outputSize: outputs, outputActivation: activation,
        bidirectional: true), seed: seed)
  }

  /// Central differences of `value` for every parameter and input of `net`, against `gradient` and `dx`.
  static func compare(
    _ net: RecurrentNetwork<Double>, _ batch: SequenceBatch<Double>, gradient: RecurrentNetwork<Double>,
    dx: Tensor<Double>?, label: String, value: (RecurrentNetwork<Double>, SequenceBatch<Double>) throws -> Double
  ) throws {
    let eps = 1e-5
    try expectParameterGradients(gradient, of: net, step: eps, tolerance: 1e-6, label) { try value($0, batch) }
    try expectInputGradient(dx, of: batch, step: eps, tolerance: 1e-6, label) { try value(net, $0) }
  }

  @Test("per-step squared error with initial states and a loss on h_n, every cell, 1 and 2 layers", arguments: GradientCheckTests.cells)
  func perStep(cell: CellKind) throws {
    for layers in 1...2 {
      let net = try Self.network(cell: cell, layers: layers, outputs: 2, activation: .tanh, seed: UInt64(layers))
      var rng = SeededGenerator(seed: 31)
      let xs = Self.lengths.map { n in (0..<n).map { _ in (0..<3).map { _ in rng.nextNormal() } } }
      let ys = Self.lengths.map { n in (0..<n).map { _ in (0..<2).map { _ in rng.nextNormal() } } }
      let batch = try SequenceBatch<Double>(inputs: xs, targets: ys)
      var s0 = net.zeroState(batch: 4), probe = net.zeroState(batch: 4)
      #expect(s0.h.count == 2 * layers)
      for i in s0.h.indices {
        s0.h[i] = .normal(shape: [4, 4], standardDeviation: 0.5, using: &rng)
        probe.h[i] = .normal(shape: [4, 4], using: &rng)
        if !s0.c.isEmpty {
          s0.c[i] = .normal(shape: [4, 4], standardDeviation: 0.5, using: &rng)
          probe.c[i] = .normal(shape: [4, 4], using: &rng)
        }
      }
      func value(_ n: RecurrentNetwork<Double>, _ b: SequenceBatch<Double>, _ s: RecurrentState<Double>) throws -> Double {
        let r = try n.loss(for: b, loss: .squaredError, initialState: s)
        var extra = 0.0
        for (a, p) in zip(r.finalState.h + r.finalState.c, probe.h + probe.c) {
          for i in a.scalars.indices { extra += a.scalars[i] * p.scalars[i] }
        }
        return r.loss + extra
      }
      var gradient = net.zeros()
      var noDropout: SeededGenerator? = nil
      let result = try net.accumulateGradient(
        for: batch, loss: .squaredError, initialState: s0, into: &gradient, dropoutGenerator: &noDropout,
        finalStateGradient: probe)
      let label = "\(cell) L=\(layers) bidirectional per-step"
      try Self.compare(net, batch, gradient: gradient, dx: result.inputGradient, label: label) { try value($0, $1, s0) }
      // The initial states of both directions.
      try expectInitialStateGradients(
        try #require(result.initialStateGradient), at: s0, step: 1e-5, tolerance: 1e-6, label
      ) { try value(net, batch, $0) }
    }
  }

  @Test("one weighted class label per sequence, every readout, every cell", arguments: GradientCheckTests.cells, SequenceReadout.allCases)
  func perSequence(cell: CellKind, readout: SequenceReadout) throws {
    let net = try Self.network(cell: cell, layers: 2, outputs: 3, activation: .softmax, seed: 8)
    var rng = SeededGenerator(seed: 41)
    let xs = Self.lengths.map { n in (0..<n).map { _ in (0..<3).map { _ in rng.nextNormal() } } }
    let batch = try SequenceBatch<Double>(inputs: xs, targets: xs.map { $0.map { _ in [0.0] } })
    let targets = FinalStepTargets<Double>.classes([1, 2, 0, 2]), weights = [0.7, 1.3, 2.0]
    var gradient = net.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try net.accumulateSequenceGradient(
      for: batch, targets: targets, readout: readout, loss: .crossEntropy, classWeights: weights, into: &gradient,
      dropoutGenerator: &noDropout)
    try Self.compare(net, batch, gradient: gradient, dx: result.inputGradient, label: "\(cell) bidirectional \(readout)") {
      try $0.sequenceLoss(for: $1, targets: targets, readout: readout, loss: .crossEntropy, classWeights: weights).loss
    }
  }

  @Test("the reverse direction of a padded sequence equals the same sequence alone, unpadded")
  func reverseStartsAtOwnLastStep() throws {
    let net = try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 2, hiddenSize: 3, layers: 2, outputSize: 2, bidirectional: true), seed: 4)
    var rng = SeededGenerator(seed: 2)
    let xs: [[[Float]]] = [6, 2, 4].map { n in (0..<n).map { _ in [Float(rng.nextNormal()), Float(rng.nextNormal())] } }
    let all = try net.outputs(for: try SequenceBatch<Float>(inputs: xs, targets: xs.map { $0.map { _ in [0, 0] } }))
    for (b, x) in xs.enumerated() {
      let alone = try net.outputs(for: try SequenceBatch<Float>(inputs: [x], targets: [x.map { _ in [0, 0] }]))
      for t in x.indices {
        let padded = Array(all.outputs.scalars[((t * 3 + b) * 2)..<((t * 3 + b) * 2 + 2)])
        expectClose(padded, Array(alone.outputs.scalars[(t * 2)..<(t * 2 + 2)]), relativeTolerance: 1e-6, "sequence \(b) step \(t)")
      }
      for l in 0..<4 { expectClose(all.finalState.h[l].scalars[(b * 3)..<(b * 3 + 3)].map { $0 }, alone.finalState.h[l].scalars, relativeTolerance: 1e-6) }
    }
  }

  @Test("refused where it cannot apply: a language model, the final-step loss")
  func refused() throws {
    #expect(throws: ModelError.self) {
      try RecurrentNetwork<Float>(
        .init(cell: .lstm, inputSize: 10, embeddingSize: 4, hiddenSize: 3, outputSize: 10, outputActivation: .softmax, bidirectional: true))
    }
    let net = try RecurrentNetwork<Float>(.init(cell: .lstm, inputSize: 1, hiddenSize: 3, outputSize: 2, outputActivation: .softmax, bidirectional: true))
    let batch = try SequenceBatch<Float>(inputs: [[[1], [2]]], targets: [[[0], [0]]])
    #expect(throws: ModelError.self) { try net.loss(for: batch, finalTargets: .classes([1]), loss: .crossEntropy) }
    #expect(net.namedParameters.map(\.0).contains("rnn.weight_hh_l0_reverse"))
    #expect(net.headWeight.shape == [2, 6])
  }
}

@Suite("Bidirectional layers on the command line")
struct BidirectionalCommandTests {
  @Test("recur fit --bidirectional learns a tag that depends on the next step; predict and eval read it")
  func tagger() throws {
    let folder = try ScratchFolder("recur-bi-fit")
    var rng = SeededGenerator(seed: 3)
    var lines: [String] = []
    for _ in 0..<40 {
      let n = 2 + Int(rng.next() % 5)
      let x = (0..<n).map { _ in rng.nextNormal() }
      let y = (0..<n).map { t in t + 1 < n && x[t + 1] > 0 ? 1 : 0 }
      lines.append("{\"x\": \(x), \"y\": \(y)}")
    }
    try folder.write("tag.jsonl", Array(lines.joined(separator: "\n").utf8))
    let fit = try RecurProcess.run(
      ["fit", "--data", "tag.jsonl", "--cell", "gru", "--hidden", "8", "--epochs", "30", "--bidirectional",
       "--checkpoint", "t.safetensors", "--validation", "0"], in: folder.url)
    try #require(fit.status == 0, "\(fit.standardError)")
    let eval = try RecurProcess.run(["eval", "--checkpoint", "t.safetensors", "--data", "tag.jsonl", "--json"], in: folder.url)
    try #require(eval.status == 0, "\(eval.standardError)")
    let accuracy = try #require((try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as? [String: Any])?["accuracy"] as? Double)
    #expect(accuracy > 0.85, "accuracy \(accuracy)")
    let predict = try RecurProcess.run(["predict", "--checkpoint", "t.safetensors", "--data", "tag.jsonl"], in: folder.url)
    try #require(predict.status == 0, "\(predict.standardError)")
    #expect(predict.standardOutput.split(separator: "\n").count == 40)
  }
}

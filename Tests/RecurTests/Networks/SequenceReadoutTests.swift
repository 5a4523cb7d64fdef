import Testing

@testable import Recur

/// One target per sequence, read off the last step or pooled over the steps: BPTT against central finite
/// differences in Double, for every cell, every readout, class weights, and a masked batch of lengths 5, 2, 4.
@Suite("One target per sequence: gradients match finite differences")
struct SequenceReadoutGradientTests {
  enum Target: String, CaseIterable, CustomStringConvertible {
    case weightedClasses, binaryWeighted, values
    var description: String { rawValue }
  }

  static func check(cell: CellKind, layers: Int, readout: SequenceReadout, target: Target, seed: UInt64) throws {
    let I = 3, H = 4
    let V = target == .weightedClasses ? 3 : target == .binaryWeighted ? 1 : 2
    let loss: ElementLoss = target == .weightedClasses ? .crossEntropy : target == .binaryWeighted ? .binaryCrossEntropy : .squaredError
    let output: OutputActivation = target == .weightedClasses ? .softmax : target == .binaryWeighted ? .sigmoid : .tanh
    let net = try RecurrentNetwork<Double>(
      .init(cell: cell, inputSize: I, hiddenSize: H, layers: layers, outputSize: V, outputActivation: output), seed: seed)
    var rng = SeededGenerator(seed: seed &+ 17)
    let lengths = [5, 2, 4, 1]
    let xs = lengths.map { n in (0..<n).map { _ in (0..<I).map { _ in rng.nextNormal() } } }
    let batch = try SequenceBatch<Double>(inputs: xs, targets: xs.map { $0.map { _ in [0.0] } })
    let targets: FinalStepTargets<Double>
    var weights: [Double]? = nil
    switch target {
    case .weightedClasses:
      targets = .classes([2, 0, 2, 1])
      weights = [0.5, 2, 1.25]
    case .binaryWeighted:
      targets = .values([1, 0, 0, 1], width: 1)
      weights = [0.3, 1.7]
    case .values:
      targets = .values((0..<(4 * V)).map { _ in rng.nextNormal() * 0.5 }, width: V)
    }
    var gradient = net.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try net.accumulateSequenceGradient(
      for: batch, targets: targets, readout: readout, loss: loss, classWeights: weights, into: &gradient,
      dropoutGenerator: &noDropout)
    let plain = try net.sequenceLoss(for: batch, targets: targets, readout: readout, loss: loss, classWeights: weights)
    #expect(plain.loss == result.loss)
    let label = "\(cell) L=\(layers) \(readout) \(target)"
    // A step of 1e-5: the truncation error (∝ ε²) stays far below the tolerance, and the round-off (∝ 1/ε) of
    // the small layer-0 gradients under max pooling does too.
    let eps = 1e-5
    func value(_ n: RecurrentNetwork<Double>, _ b: SequenceBatch<Double>) throws -> Double {
      try n.sequenceLoss(for: b, targets: targets, readout: readout, loss: loss, classWeights: weights).loss
    }
    try expectParameterGradients(gradient, of: net, step: eps, tolerance: 1e-6, label) { try value($0, batch) }
    try expectInputGradient(result.inputGradient, of: batch, step: eps, tolerance: 1e-6, label) { try value(net, $0) }
  }

  @Test("every cell and readout, weighted classes, 1 and 2 layers", arguments: GradientCheckTests.cells, SequenceReadout.allCases)
  func classes(cell: CellKind, readout: SequenceReadout) throws {
    try Self.check(cell: cell, layers: 1, readout: readout, target: .weightedClasses, seed: 3)
    try Self.check(cell: cell, layers: 2, readout: readout, target: .weightedClasses, seed: 4)
  }

  @Test("weighted binary labels and real targets", arguments: [CellKind.lstm, .gru, .gated(.tanh), .rnn(.tanh)], SequenceReadout.allCases)
  func binaryAndValues(cell: CellKind, readout: SequenceReadout) throws {
    try Self.check(cell: cell, layers: 1, readout: readout, target: .binaryWeighted, seed: 5)
    try Self.check(cell: cell, layers: 2, readout: readout, target: .values, seed: 6)
  }

  @Test("the last-step readout equals the chapter's final-step loss")
  func lastIsFinalStep() throws {
    let net = try RecurrentNetwork<Double>(
      .init(cell: .lstm, inputSize: 2, hiddenSize: 3, outputSize: 4, outputActivation: .softmax), seed: 9)
    var rng = SeededGenerator(seed: 2)
    let xs = [3, 1, 2].map { n in (0..<n).map { _ in [rng.nextNormal(), rng.nextNormal()] } }
    let batch = try SequenceBatch<Double>(inputs: xs, targets: xs.map { $0.map { _ in [0.0] } })
    var g1: RecurrentNetwork<Double>? = net.zeros()
    let final = try net.finalStepLoss(for: batch, targets: .classes([3, 0, 1]), loss: .crossEntropy, gradient: &g1)
    var g2 = net.zeros()
    var noDropout: SeededGenerator? = nil
    let ours = try net.accumulateSequenceGradient(
      for: batch, targets: .classes([3, 0, 1]), readout: .last, loss: .crossEntropy, into: &g2, dropoutGenerator: &noDropout)
    expectClose(ours.loss, final.loss, relativeTolerance: 1e-14)
    for ((_, a), (_, b)) in zip(g2.namedParameters, g1!.namedParameters) {
      expectClose(a.scalars, b.scalars, relativeTolerance: 1e-12)
    }
  }

  @Test("bad batches and weights are refused")
  func refused() throws {
    let net = try RecurrentNetwork<Double>(
      .init(cell: .gru, inputSize: 1, hiddenSize: 2, outputSize: 3, outputActivation: .softmax), seed: 1)
    let batch = try SequenceBatch<Double>(inputs: [[[1], [2]], [[3]]], targets: [[[0], [0]], [[0]]])
    #expect(throws: ModelError.self) {
      try net.sequenceLoss(for: batch, targets: .classes([0]), readout: .mean, loss: .crossEntropy)
    }
    #expect(throws: ModelError.self) {
      try net.sequenceLoss(for: batch, targets: .classes([0, 3]), readout: .mean, loss: .crossEntropy)
    }
    #expect(throws: ModelError.self) {
      try net.sequenceLoss(for: batch, targets: .classes([0, 1]), readout: .mean, loss: .crossEntropy, classWeights: [1, 2])
    }
    #expect(throws: ModelError.self) {
      try net.sequenceLoss(for: batch, targets: .classes([0, 1]), readout: .max, loss: .crossEntropy, classWeights: [1, -2, 1])
    }
    #expect(try ClassWeights.balanced.weights(labels: [0, 0, 0, 1], classCount: 3) == [4.0 / 9, 4.0 / 3, 1])
    #expect(throws: ModelError.self) { try ClassWeights.given([1, 2]).weights(labels: [], classCount: 3) }
    #expect(throws: ModelError.self) { try ClassWeights.given([0, 0]).weights(labels: [], classCount: 2) }
  }
}

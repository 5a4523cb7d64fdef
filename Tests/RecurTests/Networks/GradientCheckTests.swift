import Testing

@testable import Recur

/// Central finite differences in Double precision against BPTT, for every parameter, the initial state and
/// the inputs.
@Suite("BPTT gradients match finite differences")
struct GradientCheckTests {
  static let cells: [CellKind] = [
    .rnn(.tanh), .rnn(.relu), .rnn(.sigmoid), .rnn(.identity), .gated(.tanh), .gated(.relu), .lstm, .gru,
  ]

  /// A batch of three vector sequences of lengths 5, 2 and 4 (padded to 5).
  static func vectorBatch(features: Int, outputs: Int, loss: ElementLoss, seed: UInt64) throws -> SequenceBatch<Double> {
    var rng = SeededGenerator(seed: seed)
    let lengths = [5, 2, 4]
    var xs: [[[Double]]] = [], ys: [[[Double]]] = []
    for n in lengths {
      xs.append((0..<n).map { _ in (0..<features).map { _ in rng.nextNormal() } })
      ys.append(
        (0..<n).map { _ in
          (0..<outputs).map { _ in loss == .binaryCrossEntropy ? (rng.nextUnit() < 0.5 ? 0 : 1) : rng.nextNormal() }
        })
    }
    return try SequenceBatch(inputs: xs, targets: ys)
  }

  static func tokenBatch(vocabulary: Int, seed: UInt64) throws -> SequenceBatch<Double> {
    var rng = SeededGenerator(seed: seed)
    let lengths = [4, 6, 1]
    let x = lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(vocabulary)) } }
    let y = lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(vocabulary)) } }
    return try SequenceBatch(tokens: x, targets: y)
  }

  /// Loss as a function of the network, the initial state and the batch.
  static func lossValue(
    _ net: RecurrentNetwork<Double>, _ batch: SequenceBatch<Double>, _ loss: ElementLoss,
    _ s0: RecurrentState<Double>, finalProbe: RecurrentState<Double>
  ) throws -> Double {
    let r = try net.loss(for: batch, loss: loss, initialState: s0)
    // A loss on the final state too, so that dL/ds_T and the carried state of short sequences are checked.
    var probe = 0.0
    for (a, b) in zip(r.finalState.h + r.finalState.c, finalProbe.h + finalProbe.c) {
      for i in a.scalars.indices { probe += a.scalars[i] * b.scalars[i] }
    }
    return r.loss + probe
  }

  static func check(
    cell: CellKind, layers: Int, loss: ElementLoss, output: OutputActivation, tokens: Bool, seed: UInt64
  ) throws {
    let I = 3, H = 4, V = tokens ? 5 : 2
    let config = RecurrentNetwork<Double>.Configuration(
      cell: cell, inputSize: tokens ? V : I, embeddingSize: tokens ? I : nil, hiddenSize: H, layers: layers,
      outputSize: V, outputActivation: output)
    var net = try RecurrentNetwork<Double>(config, seed: seed)
    let batch = tokens ? try tokenBatch(vocabulary: V, seed: seed) : try vectorBatch(features: I, outputs: V, loss: loss, seed: seed)
    var rng = SeededGenerator(seed: seed &+ 99)
    let B = batch.batchSize
    var s0 = net.zeroState(batch: B)
    for l in 0..<layers {
      s0.h[l] = .normal(shape: [B, H], standardDeviation: 0.5, using: &rng)
      if !s0.c.isEmpty { s0.c[l] = .normal(shape: [B, H], standardDeviation: 0.5, using: &rng) }
    }
    var probe = s0
    for l in 0..<layers {
      probe.h[l] = .normal(shape: [B, H], using: &rng)
      if !probe.c.isEmpty { probe.c[l] = .normal(shape: [B, H], using: &rng) }
    }

    var gradient = net.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try net.accumulateGradient(
      for: batch, loss: loss, initialState: s0, into: &gradient, dropoutGenerator: &noDropout,
      finalStateGradient: probe)
    let label = "\(cell) L=\(layers) \(loss) \(output)"
    let eps = 1e-6
    let tolerance = 1e-6

    // Every parameter.
    try expectParameterGradients(gradient, of: net, step: eps, tolerance: tolerance, label) {
      try lossValue($0, batch, loss, s0, finalProbe: probe)
    }
    // The initial state.
    try expectInitialStateGradients(try #require(result.initialStateGradient), at: s0, step: eps, tolerance: tolerance, label) {
      try lossValue(net, batch, loss, $0, finalProbe: probe)
    }
    // The inputs; padded steps get exactly zero gradient.
    try expectInputGradient(result.inputGradient, of: batch, step: eps, tolerance: tolerance, label) {
      try lossValue(net, $0, loss, s0, finalProbe: probe)
    }
    _ = net.parameterCount
    net.zeroAll()
  }

  @Test("every cell, squared error on vectors, 1–3 layers, masked batch", arguments: cells)
  func squaredError(cell: CellKind) throws {
    for layers in 1...3 {
      try Self.check(cell: cell, layers: layers, loss: .squaredError, output: layers == 2 ? .tanh : .identity, tokens: false, seed: UInt64(layers))
    }
  }

  @Test("every cell, softmax cross-entropy on tokens with an embedding", arguments: cells)
  func crossEntropy(cell: CellKind) throws {
    try Self.check(cell: cell, layers: 2, loss: .crossEntropy, output: .softmax, tokens: true, seed: 7)
  }

  @Test("sigmoid binary cross-entropy and a sigmoid output under squared error", arguments: [CellKind.lstm, .gated(.tanh), .rnn(.tanh)])
  func binary(cell: CellKind) throws {
    try Self.check(cell: cell, layers: 1, loss: .binaryCrossEntropy, output: .sigmoid, tokens: false, seed: 11)
    try Self.check(cell: cell, layers: 1, loss: .squaredError, output: .sigmoid, tokens: false, seed: 12)
  }
}

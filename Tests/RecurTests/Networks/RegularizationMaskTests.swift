import Testing

@testable import Recur

/// What the regularizers' masks promise: locked masks repeat at every step of a sequence and differ between
/// sequences; a weight-drop mask drops its share p of W_hh and is one matrix for every step and sequence;
/// no mask depends on how a batch is split over processes; and a pass without masks (evaluation) computes
/// exactly what the same weights without any regularizer compute.
@Suite("Regularization/masks")
struct RegularizationMaskTests {
  static let all = Regularization(
    embeddingDropout: 0.3, inputDropout: 0.25, hiddenDropout: 0.3, outputDropout: 0.35, weightDrop: 0.4)

  /// Four token sequences of six steps (no padding), vocabulary `V`.
  static func tokens(vocabulary V: Int, batch B: Int = 4, steps T: Int = 6, seed: UInt64) throws -> SequenceBatch<Double> {
    var rng = SeededGenerator(seed: seed)
    let x = (0..<B).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(V)) } }
    let y = (0..<B).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(V)) } }
    return try SequenceBatch(tokens: x, targets: y)
  }

  /// The row (t, b) of a time-major T·B × width mask.
  static func row<S: RecurScalar>(_ mask: UnsafeMutablePointer<S>, t: Int, b: Int, batch B: Int, width: Int) -> [S] {
    Array(UnsafeBufferPointer(start: mask + (t * B + b) * width, count: width))
  }

  /// Expects a T·B × width mask to repeat its step-0 row at every step, and the sequences' rows to differ.
  static func expectLocked<S: RecurScalar>(
    _ mask: UnsafeMutablePointer<S>, steps T: Int, batch B: Int, width: Int, _ what: String
  ) {
    for b in 0..<B {
      let first = row(mask, t: 0, b: b, batch: B, width: width)
      #expect(first.contains(0) && first.contains { $0 > 1 }, "\(what) b=\(b) drops nothing or everything")
      for t in 1..<T { #expect(row(mask, t: t, b: b, batch: B, width: width) == first, "\(what) t=\(t) b=\(b) not locked") }
      for other in 0..<b { #expect(row(mask, t: 0, b: other, batch: B, width: width) != first, "\(what) b=\(other), \(b) share a mask") }
    }
  }

  @Test("locked input, hidden and output masks: one per sequence, the same at every step")
  func lockedOverSteps() throws {
    let V = 6, E = 12, H = 16, L = 3, T = 6, B = 4
    let net = try RecurrentNetwork<Double>(
      .languageModel(cell: .lstm, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: L, regularization: Self.all),
      seed: 3)
    let batch = try Self.tokens(vocabulary: V, seed: 3)
    let ws = NetworkWorkspace<Double>()
    _ = try DropoutGradientTests.loss(net, batch, maskSeed: 11, workspace: ws)
    Self.expectLocked(ws.embeddingMask.pointer, steps: T, batch: B, width: E, "input")
    for l in 1..<L { Self.expectLocked(ws.stack.masks[l].pointer, steps: T, batch: B, width: H, "hidden \(l)") }
    Self.expectLocked(ws.outputMask.pointer, steps: T, batch: B, width: H, "output")
    // Layers draw their own masks.
    #expect(Self.row(ws.stack.masks[1].pointer, t: 0, b: 0, batch: B, width: H) != Self.row(ws.stack.masks[2].pointer, t: 0, b: 0, batch: B, width: H))
    // Plain dropout, by contrast, draws anew at every step.
    var plain = [Double](repeating: -1, count: T * B * H)
    DropoutMasks(key: 7, firstStream: 0).fill(&plain, slot: .layerInput(1), steps: T, batch: B, width: H, probability: 0.3)
    #expect(plain[0..<H] != plain[(B * H)..<(B * H + H)])
  }

  @Test("the weight-drop mask drops p of W_hh (binomial bound) and keeps the rest at 1/(1 − p)", arguments: [0.2, 0.4, 0.6])
  func weightDropShare(p: Double) throws {
    let H = 32, L = 2
    let net = try RecurrentNetwork<Float>(
      .languageModel(cell: .lstm, vocabularySize: 5, embeddingSize: 4, hiddenSize: H, layers: L,
                     regularization: Regularization(weightDrop: p)), seed: 1)
    let ws = NetworkWorkspace<Float>()
    var generator: SeededGenerator? = SeededGenerator(seed: 99)
    var gradient = net.zeros()
    _ = try net.accumulateGradient(
      for: try SequenceBatch<Float>(tokens: [[1, 2, 3]], targets: [[2, 3, 4]]), loss: .crossEntropy,
      into: &gradient, workspace: ws, dropoutGenerator: &generator)
    let n = 4 * H * H, kept = Float(1 / (1 - p))
    var masks: [[Float]] = []
    for l in 0..<L {
      let mask = Array(UnsafeBufferPointer(start: ws.stack.weightMasks[2 * l].pointer, count: n))
      #expect(mask.allSatisfy { $0 == 0 || $0 == kept }, "layer \(l): values other than 0 and 1/(1 − p)")
      // The number of zeros is Binomial(n, p): within 5 standard deviations of np (a miss has odds < 1e-6).
      let zeros = Double(mask.filter { $0 == 0 }.count)
      let sd = (Double(n) * p * (1 - p)).squareRoot()
      #expect(abs(zeros - Double(n) * p) <= 5 * sd, "layer \(l): \(zeros) zeros of \(n), expected \(Double(n) * p) ± \(5 * sd)")
      masks.append(mask)
    }
    #expect(masks[0] != masks[1], "the layers share a mask")
  }

  @Test("weight drop is one matrix M ⊙ W_hh for every step and sequence: the pass equals the plain network with W_hh := M ⊙ W_hh", arguments: [CellKind.rnn(.tanh), .gated(.tanh), .lstm, .gru])
  func weightDropIsOneMatrix(cell: CellKind) throws {
    let V = 5, L = 2
    let net = try RecurrentNetwork<Double>(
      .languageModel(cell: cell, vocabularySize: V, embeddingSize: 3, hiddenSize: 4, layers: L,
                     regularization: Regularization(weightDrop: 0.4)), seed: 8)
    let batch = try GradientCheckTests.tokenBatch(vocabulary: V, seed: 8)  // lengths 4, 6, 1
    let maskSeed: UInt64 = 21
    let (dropped, gradient) = try DropoutGradientTests.loss(net, batch, maskSeed: maskSeed)

    // The masks by DropoutMasks' rule: the key is the first draw of the mask generator.
    var keyGenerator = SeededGenerator(seed: maskSeed)
    let masks = DropoutMasks(key: keyGenerator.next(), firstStream: 0)
    var plain = try net.withTrainingRegularization(dropout: 0, regularization: Regularization())
    var weightMasks: [[Double]] = []
    for l in 0..<L {
      var m = [Double](repeating: 0, count: net.stack.layers[l].weightHH.count)
      masks.fillShared(&m, slot: .recurrentWeight(layer: l, direction: 0), count: m.count, probability: 0.4)
      for i in m.indices { plain.stack.layers[l].weightHH.scalars[i] *= m[i] }
      weightMasks.append(m)
    }
    let (reference, referenceGradient) = try plain.gradient(for: batch, loss: .crossEntropy)
    expectClose(dropped, reference.loss, relativeTolerance: 1e-13, "\(cell) loss")
    for ((name, g), (_, r)) in zip(gradient.namedParameters, referenceGradient.namedParameters) {
      var want = r.scalars
      if let l = (0..<L).first(where: { name == "rnn.weight_hh_l\($0)" }) {
        // dJ/dW_hh = M ⊙ dJ/d(M ⊙ W_hh).
        for i in want.indices { want[i] *= weightMasks[l][i] }
      }
      expectClose(g.scalars, want, relativeTolerance: 1e-12, "\(cell) d\(name)")
    }
  }

  /// The documented rule of a mask shared by the batch, written here again from its description:
  /// kept when mix32(mix32(i ⊕ lo) ⊕ hi) < round((1 − p) · 2³²), lowbias32 as mix32, ties of the rounding up.
  static func documentedSharedMask(seed: UInt64, count: Int, probability p: Double) -> [Bool] {
    func mix32(_ v: UInt32) -> UInt32 {
      var x = v
      x ^= x >> 16
      x = x &* 0x7feb_352d
      x ^= x >> 15
      x = x &* 0x846c_a68b
      return x ^ (x >> 16)
    }
    let threshold = UInt64(((1 - p) * 4_294_967_296).rounded(.toNearestOrAwayFromZero))
    let lo = UInt32(truncatingIfNeeded: seed), hi = UInt32(truncatingIfNeeded: seed >> 32)
    return (0..<count).map { i in UInt64(mix32(mix32(UInt32(i) ^ lo) ^ hi)) < threshold }
  }

  @Test("the shared masks follow the documented counter-based rule, in Float and in Double, and write M ⊙ W", arguments: [0.1, 0.4, 0.75])
  func sharedMaskRule(p: Double) {
    let masks = DropoutMasks(key: 0xFEED_5EED, firstStream: 3)
    let n = 1001
    for slot in [DropoutMasks.Slot.recurrentWeight(layer: 1, direction: 0), .embeddingRows] {
      let want = Self.documentedSharedMask(seed: masks.streamSeed(layer: slot.index, stream: 0), count: n, probability: p)
      var f = [Float](repeating: -1, count: n), d = [Double](repeating: -1, count: n)
      masks.fillShared(&f, slot: slot, count: n, probability: p)
      masks.fillShared(&d, slot: slot, count: n, probability: p)
      #expect(f.map { $0 != 0 } == want, "Float, \(slot)")
      #expect(d.map { $0 != 0 } == want, "Double, \(slot)")
      #expect(f.allSatisfy { $0 == 0 || $0 == Float(1 / (1 - p)) } && d.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
      let weight = (0..<n).map { Float($0) - 500.5 }
      var m = [Float](repeating: -1, count: n), dropped = [Float](repeating: -1, count: n)
      weight.withUnsafeBufferPointer { w in
        masks.fillShared(&m, slot: slot, count: n, probability: p, weight: w.baseAddress, dropped: &dropped)
      }
      #expect(m == f && dropped == zip(weight, m).map { $0 * $1 })
    }
  }

  @Test("DropoutMasks: rows first… of a split batch get the rows first… of the whole batch's masks; shared masks ignore the split")
  func maskFillDoesNotDependOnTheSplit() {
    let key: UInt64 = 0x5EED, T = 4, B = 6, W = 9
    let whole = DropoutMasks(key: key, firstStream: 0)
    for locked in [false, true] {
      var all = [Float](repeating: -1, count: T * B * W)
      whole.fill(&all, slot: .output(layers: 2), steps: T, batch: B, width: W, probability: 0.3, locked: locked)
      let part = DropoutMasks(key: key, firstStream: 2)
      var rows = [Float](repeating: -1, count: T * (B - 2) * W)
      part.fill(&rows, slot: .output(layers: 2), steps: T, batch: B - 2, width: W, probability: 0.3, locked: locked)
      for t in 0..<T {
        for b in 2..<B {
          #expect(Self.row(&rows, t: t, b: b - 2, batch: B - 2, width: W) == Self.row(&all, t: t, b: b, batch: B, width: W))
        }
      }
    }
    var a = [Float](repeating: -1, count: 50), b = [Float](repeating: -2, count: 50)
    whole.fillShared(&a, slot: .recurrentWeight(layer: 1, direction: 1), count: 50, probability: 0.4)
    DropoutMasks(key: key, firstStream: 3).fillShared(&b, slot: .recurrentWeight(layer: 1, direction: 1), count: 50, probability: 0.4)
    #expect(a == b)
    // Slots draw their own masks.
    var c = [Float](repeating: -1, count: 50)
    whole.fillShared(&c, slot: .recurrentWeight(layer: 1, direction: 0), count: 50, probability: 0.4)
    #expect(a != c)
  }

  @Test("a network pass over rows 2… with firstStream 2 draws the whole batch's masks for them and adds up to its loss and gradient", arguments: [CellKind.lstm, .gru])
  func networkPassDoesNotDependOnTheSplit(cell: CellKind) throws {
    let V = 6, E = 5, H = 6, L = 2, T = 6, B = 5
    let net = try RecurrentNetwork<Double>(
      .languageModel(cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layers: L, regularization: Self.all),
      seed: 4)
    let batch = try Self.tokens(vocabulary: V, batch: B, steps: T, seed: 4)
    let key: UInt64 = 0xC0FFEE
    func pass(_ rows: Range<Int>) throws -> (LossResult<Double>, RecurrentNetwork<Double>, NetworkWorkspace<Double>) {
      let part = try #require(batch.rows(rows))
      var gradient = net.zeros()
      let ws = NetworkWorkspace<Double>()
      let result = try net.accumulateGradient(
        for: part, loss: .crossEntropy, reduction: .sum, globalScale: nil, initialState: nil, into: &gradient,
        workspace: ws, dropout: DropoutMasks(key: key, firstStream: rows.lowerBound))
      return (result, gradient, ws)
    }
    let (whole, wholeGradient, ws) = try pass(0..<B)
    let (head, headGradient, _) = try pass(0..<2)
    let (rest, restGradient, rws) = try pass(2..<B)
    let n = B - 2
    for t in 0..<T {
      for b in 2..<B {
        #expect(Self.row(rws.embeddingMask.pointer, t: t, b: b - 2, batch: n, width: E) == Self.row(ws.embeddingMask.pointer, t: t, b: b, batch: B, width: E))
        #expect(Self.row(rws.stack.masks[1].pointer, t: t, b: b - 2, batch: n, width: H) == Self.row(ws.stack.masks[1].pointer, t: t, b: b, batch: B, width: H))
        #expect(Self.row(rws.outputMask.pointer, t: t, b: b - 2, batch: n, width: H) == Self.row(ws.outputMask.pointer, t: t, b: b, batch: B, width: H))
      }
    }
    #expect(Array(UnsafeBufferPointer(start: rws.embeddingRowMask.pointer, count: V)) == Array(UnsafeBufferPointer(start: ws.embeddingRowMask.pointer, count: V)))
    for l in 0..<L {
      let count = net.stack.layers[l].weightHH.count
      #expect(Array(UnsafeBufferPointer(start: rws.stack.weightMasks[2 * l].pointer, count: count)) == Array(UnsafeBufferPointer(start: ws.stack.weightMasks[2 * l].pointer, count: count)))
    }
    expectClose(head.elementLossSum + rest.elementLossSum, whole.elementLossSum, relativeTolerance: 1e-13, "\(cell) loss")
    for ((name, w), ((_, h), (_, r))) in zip(wholeGradient.namedParameters, zip(headGradient.namedParameters, restGradient.namedParameters)) {
      expectClose(zip(h.scalars, r.scalars).map { $0 + $1 }, w.scalars, relativeTolerance: 1e-12, "\(cell) d\(name)")
    }
  }

  @Test("evaluation (no masks) is bitwise the same with any regularizer as without", arguments: [CellKind.lstm, .gru, .rnn(.tanh)])
  func evaluationUnchanged(cell: CellKind) throws {
    let V = 7
    let plainConfig = RecurrentNetwork<Float>.Configuration.languageModel(
      cell: cell, vocabularySize: V, embeddingSize: 4, hiddenSize: 8, layers: 2)
    var regularizedConfig = plainConfig
    regularizedConfig.regularization = Self.all
    let plain = try RecurrentNetwork<Float>(plainConfig, seed: 12)
    let regularized = try RecurrentNetwork<Float>(regularizedConfig, seed: 12)
    #expect(plain.namedParameters.map(\.1) == regularized.namedParameters.map(\.1))
    var rng = SeededGenerator(seed: 12)
    let lengths = [7, 3, 5]
    let batch = try SequenceBatch<Float>(
      tokens: lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(V)) } },
      targets: lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(V)) } })
    let a = try plain.loss(for: batch, loss: .crossEntropy), b = try regularized.loss(for: batch, loss: .crossEntropy)
    #expect(a.loss == b.loss && a.finalState.h.map(\.scalars) == b.finalState.h.map(\.scalars))
    #expect(try plain.outputs(for: batch).outputs.scalars == (try regularized.outputs(for: batch).outputs.scalars))
    // A gradient pass without a mask generator draws no masks either.
    let (ga, gb) = (try plain.gradient(for: batch, loss: .crossEntropy), try regularized.gradient(for: batch, loss: .crossEntropy))
    #expect(ga.result.loss == gb.result.loss)
    #expect(ga.gradient.namedParameters.map(\.1) == gb.gradient.namedParameters.map(\.1))
    // While training with masks, the same weights compute something else.
    var generator: SeededGenerator? = SeededGenerator(seed: 1)
    var g = regularized.zeros()
    let trained = try regularized.accumulateGradient(for: batch, loss: .crossEntropy, into: &g, dropoutGenerator: &generator)
    #expect(trained.loss != a.loss)
  }
}

import Foundation
import Testing

@testable import Recur

/// Two small parameters a (2 × 3) and b (3), the shape of the optimizer and averaging fixtures.
struct TwoParameters<Scalar: RecurScalar>: Parameterized {
  var a: Tensor<Scalar>
  var b: Tensor<Scalar>

  init(a: Tensor<Scalar>, b: Tensor<Scalar>) {
    self.a = a
    self.b = b
  }

  func forEachParameter(_ body: (String, Tensor<Scalar>) throws -> Void) rethrows {
    try body("a", a)
    try body("b", b)
  }

  mutating func updateEachParameter(_ body: (String, inout Tensor<Scalar>) throws -> Void) rethrows {
    try body("a", &a)
    try body("b", &b)
  }

  var values: [Scalar] { a.scalars + b.scalars }
}

/// The optimizer fixture's parameters, in Double.
typealias TwoTensors = TwoParameters<Double>

extension TwoParameters<Double> {
  init(_ values: [String: [Double]]) {
    self.init(a: Tensor(shape: [2, 3], scalars: values["a"]!), b: Tensor(shape: [3], scalars: values["b"]!))
  }
}

/// torch.optim's updates, from `Fixtures/generate_optimizer_fixture.py`.
struct OptimizerFixture {
  let initial: [String: [Double]]
  let gradients: [[String: [Double]]]
  let cases: [String: [[String: [Double]]]]
  let clip: [String: Any]

  static func load() throws -> OptimizerFixture {
    let url = try #require(Bundle.module.url(forResource: "optimizer_reference", withExtension: "json", subdirectory: "Fixtures"))
    let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let cases = try #require(root["cases"] as? [[String: Any]])
    var byName: [String: [[String: [Double]]]] = [:]
    for c in cases { byName[c["name"] as! String] = c["after"] as? [[String: [Double]]] }
    return OptimizerFixture(
      initial: try #require(root["initial"] as? [String: [Double]]),
      gradients: try #require(root["gradients"] as? [[String: [Double]]]),
      cases: byName, clip: try #require(root["clip_grad_norm"] as? [String: Any]))
  }
}

@Suite("Optimizers match torch.optim")
struct OptimizerTests {
  static let optimizers: [(String, Optimizer)] = [
    ("sgd", .sgd(learningRate: 0.1)),
    ("sgd_momentum", .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)),
    ("sgd_nesterov", .sgd(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)),
    ("adagrad", .adagrad(learningRate: 0.1, learningRateDecay: 0.01, initialAccumulator: 0.1, weightDecay: 0.01)),
    ("min_char_rnn_adagrad", .minCharRNNAdagrad()),
    ("rmsprop", .rmsprop(learningRate: 0.01, alpha: 0.95)),
    ("rmsprop_centered_momentum", .rmsprop(learningRate: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01)),
    ("adam", .adam(learningRate: 0.01, weightDecay: 0.01)),
    ("adamw", .adamW(learningRate: 0.01, weightDecay: 0.1)),
  ]

  @Test("three steps of each optimizer equal PyTorch's", arguments: optimizers.map(\.0))
  func matchesTorch(name: String) throws {
    let fixture = try OptimizerFixture.load()
    let optimizer = try #require(Self.optimizers.first { $0.0 == name }?.1)
    let expected = try #require(fixture.cases[name])
    var parameters = TwoTensors(fixture.initial)
    var state = OptimizerState<Double>()
    for (k, g) in fixture.gradients.enumerated() {
      optimizer.update(&parameters, gradient: TwoTensors(g), state: &state)
      expectClose(parameters.values, TwoTensors(expected[k]).values, relativeTolerance: 1e-13, "\(name) step \(k + 1)")
    }
    #expect(state.step == 3)
  }

  @Test("a restored optimizer state continues exactly")
  func stateRoundTrip() throws {
    let fixture = try OptimizerFixture.load()
    for (name, optimizer) in Self.optimizers {
      var straight = TwoTensors(fixture.initial), state = OptimizerState<Double>()
      for g in fixture.gradients { optimizer.update(&straight, gradient: TwoTensors(g), state: &state) }

      var resumed = TwoTensors(fixture.initial), first = OptimizerState<Double>()
      optimizer.update(&resumed, gradient: TwoTensors(fixture.gradients[0]), state: &first)
      var restored = try OptimizerState<Double>(step: first.step, namedTensors: first.namedTensors)
      #expect(restored == first, "\(name)")
      for g in fixture.gradients.dropFirst() { optimizer.update(&resumed, gradient: TwoTensors(g), state: &restored) }
      #expect(resumed.values == straight.values, "\(name) resumed differs")
    }
  }

  @Test("clipping by global norm equals torch.nn.utils.clip_grad_norm_; by value clamps")
  func clipping() throws {
    let fixture = try OptimizerFixture.load()
    var g = TwoTensors(fixture.gradients[0])
    let total = g.clip(.globalNorm(fixture.clip["max_norm"] as! Double))
    expectClose(total, fixture.clip["total_norm"] as! Double, relativeTolerance: 1e-14)
    expectClose(g.values, TwoTensors(fixture.clip["clipped"] as! [String: [Double]]).values, relativeTolerance: 1e-14)
    expectClose(g.globalNorm, 0.5, relativeTolerance: 1e-5)

    // Below the threshold nothing changes.
    var small = TwoTensors(fixture.gradients[0])
    let norm = small.clip(.globalNorm(100))
    #expect(small.values == TwoTensors(fixture.gradients[0]).values)
    #expect(norm == small.globalNorm)

    var clamped = TwoTensors(fixture.gradients[0])
    clamped.clip(.value(0.3))
    let original = TwoTensors(fixture.gradients[0]).values
    #expect(clamped.values == original.map { min(max($0, -0.3), 0.3) })
    #expect(original.contains { abs($0) > 0.3 })
  }

  @Test("invalid hyperparameters are rejected with a message")
  func validation() {
    #expect(throws: OptimizerError.self) { try Optimizer.sgd(learningRate: -1).validate() }
    #expect(throws: OptimizerError.self) { try Optimizer.sgd(learningRate: 0.1, nesterov: true).validate() }
    #expect(throws: OptimizerError.self) { try Optimizer.adam(beta1: 1).validate() }
    #expect(throws: OptimizerError.self) { try Optimizer.rmsprop(alpha: 1.5).validate() }
  }
}

@Suite("Learning-rate schedules")
struct ScheduleTests {
  @Test("constant, char-rnn step decay and cosine with warm-up")
  func values() {
    #expect(LearningRateSchedule.constant.learningRate(step: 1234, base: 0.002) == 0.002)

    // char-rnn: × 0.97 at the end of every epoch from epoch 10 on; 100 steps per epoch.
    let decay = LearningRateSchedule.stepDecay(factor: 0.97, afterEpoch: 10, stepsPerEpoch: 100)
    #expect(decay == .stepDecay(factor: 0.97, every: 100, start: 1000))
    #expect(decay.learningRate(step: 999, base: 1) == 1)
    #expect(decay.learningRate(step: 1000, base: 1) == 0.97)
    #expect(decay.learningRate(step: 1099, base: 1) == 0.97)
    expectClose(decay.learningRate(step: 1100, base: 1), 0.97 * 0.97, relativeTolerance: 1e-15)
    expectClose(decay.learningRate(step: 1550, base: 2), 2 * pow(0.97, 6), relativeTolerance: 1e-15)

    let cosine = LearningRateSchedule.cosine(warmup: 10, total: 110, minimum: 0.1)
    expectClose(cosine.learningRate(step: 0, base: 1), 0.1, relativeTolerance: 1e-15)
    expectClose(cosine.learningRate(step: 4, base: 1), 0.5, relativeTolerance: 1e-15)
    #expect(cosine.learningRate(step: 10, base: 1) == 1)
    expectClose(cosine.learningRate(step: 60, base: 1), 0.55, relativeTolerance: 1e-14)
    expectClose(cosine.learningRate(step: 110, base: 1), 0.1, relativeTolerance: 1e-14)
    #expect(cosine.learningRate(step: 500, base: 1) == cosine.learningRate(step: 110, base: 1))
    // Monotone after the warm-up.
    let tail = (10...110).map { cosine.learningRate(step: $0, base: 1) }
    #expect(zip(tail, tail.dropFirst()).allSatisfy { $0 >= $1 })
  }
}

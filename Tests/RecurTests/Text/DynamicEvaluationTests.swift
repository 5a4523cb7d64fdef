import Foundation
import Testing

@testable import Recur

@Suite("Dynamic evaluation: the weights learn from each segment after predicting it")
struct DynamicEvaluationTests {
  typealias Net = RecurrentNetwork<Double>

  /// Per-segment (predictions so far, loss sum so far) of a dynamic evaluation.
  static func segments(
    _ net: Net, _ tokens: [Int32], _ settings: DynamicEvaluation, _ statistics: GradientStatistics<Double>? = nil
  ) throws -> (result: LanguageModelEvaluation, marks: [(done: Int, sum: Double)]) {
    var marks: [(done: Int, sum: Double)] = []
    let result = try net.dynamicallyEvaluateLanguageModel(
      on: tokens, settings: settings, statistics: statistics, onSegment: { done, sum, _ in marks.append((done, sum)) })
    return (result, marks)
  }

  /// Random MS_g > 0 for every parameter of `net`.
  static func randomStatistics(_ net: Net, seed: UInt64) -> GradientStatistics<Double> {
    var rng = SeededGenerator(seed: seed)
    var meanSquares: [String: Tensor<Double>] = [:]
    for (name, tensor) in net.namedParameters {
      let values = (0..<tensor.count).map { _ in Double(rng.next() % 1000 + 1) * 1e-6 }
      meanSquares[name] = Tensor(shape: tensor.shape, scalars: values)
    }
    return GradientStatistics(meanSquares: meanSquares)
  }

  @Test("dynamic/with η = 0 and λ = 0 it is the static figure")
  func zeroStepIsStatic() throws {
    let net = try EvaluationTests.tinyModel(Double.self)
    let tokens = EvaluationTests.randomTokens(50, vocabulary: 7, seed: 3)
    let still = DynamicEvaluation(rule: .sgd, segmentLength: 7, learningRate: 0, decay: 0)
    let dynamic = try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: still)
    let fixed = try net.evaluateLanguageModel(on: tokens, chunkLength: 7)
    #expect(dynamic.predictions == 49)
    expectClose(dynamic.natsPerToken, fixed.natsPerToken, relativeTolerance: 1e-13)
  }

  /// The update written out again from the definition, over the (name, tensor) pairs: θ_g kept aside, each
  /// segment's summed loss from θ_{i−1}, then θ_i = θ_{i−1} − a ⊙ ∇L(s_i) + d ⊙ (θ_g − θ_{i−1}).
  static func reference(
    _ net: Net, _ tokens: [Int32], _ settings: DynamicEvaluation, _ statistics: GradientStatistics<Double>?
  ) throws -> [(done: Int, sum: Double)] {
    let trained = net.namedParameters
    var a: [String: [Double]] = [:], d: [String: [Double]] = [:]
    if settings.rule == .rms, let statistics {
      let roots = trained.map { statistics.meanSquares[$0.name]!.scalars.map { $0.squareRoot() } }
      let all = roots.flatMap { $0 }
      let mean = all.reduce(0, +) / Double(all.count)
      for (k, p) in trained.enumerated() {
        a[p.name] = roots[k].map { settings.learningRate / ($0 + settings.epsilon) }
        d[p.name] = roots[k].map { min(settings.decay * $0 / mean, 1) }
      }
    } else {
      for p in trained {
        a[p.name] = Array(repeating: settings.learningRate, count: p.tensor.count)
        d[p.name] = Array(repeating: settings.decay, count: p.tensor.count)
      }
    }
    let θg = Dictionary(uniqueKeysWithValues: trained.map { ($0.name, $0.tensor.scalars) })
    var θ = net, state = net.zeroState(batch: 1)
    var marks: [(done: Int, sum: Double)] = [], sum = 0.0, start = 0
    while start < tokens.count - 1 {
      let T = min(settings.segmentLength, tokens.count - 1 - start)
      let batch = try SequenceBatch<Double>(
        tokens: [tokens[start..<(start + T)].map(Int.init)], targets: [tokens[(start + 1)...(start + T)].map(Int.init)])
      let loss = try θ.loss(for: batch, loss: .crossEntropy, reduction: .sum, initialState: state)
      let (_, g) = try θ.gradient(for: batch, loss: .crossEntropy, reduction: .meanOverSteps, initialState: state)
      sum += loss.elementLossSum
      state = loss.finalState
      start += T
      marks.append((start, sum))
      let grads = Dictionary(uniqueKeysWithValues: g.namedParameters.map { ($0.name, $0.tensor.scalars) })
      θ.updateEachParameter { name, p in
        for j in 0..<p.count {
          p.scalars[j] = p.scalars[j] - a[name]![j] * grads[name]![j] + d[name]![j] * (θg[name]![j] - p.scalars[j])
        }
      }
    }
    return marks
  }

  @Test("dynamic/each segment is predicted by the weights learnt from the segments before it (sgd and rms rules)",
        arguments: [DynamicEvaluation.Rule.sgd, .rms])
  func matchesDefinition(rule: DynamicEvaluation.Rule) throws {
    let net = try EvaluationTests.tinyModel(Double.self)
    let tokens = EvaluationTests.randomTokens(61, vocabulary: 7, seed: 8)
    // η large enough that a wrong sign, a missing decay or a late update changes the figures well beyond 1e-12.
    let settings = rule == .sgd
      ? DynamicEvaluation(rule: .sgd, segmentLength: 9, learningRate: 0.5, decay: 0.2)
      : DynamicEvaluation(rule: .rms, segmentLength: 9, learningRate: 0.02, decay: 0.3, epsilon: 1e-3)
    let statistics = rule == .rms ? Self.randomStatistics(net, seed: 4) : nil
    let (result, marks) = try Self.segments(net, tokens, settings, statistics)
    let expected = try Self.reference(net, tokens, settings, statistics)
    #expect(marks.map(\.done) == [9, 18, 27, 36, 45, 54, 60])
    #expect(marks.count == expected.count)
    for (m, e) in zip(marks, expected) {
      #expect(m.done == e.done)
      expectClose(m.sum, e.sum, relativeTolerance: 1e-12, "loss sum after \(m.done) predictions")
    }
    expectClose(result.natsPerToken, expected.last!.sum / 60, relativeTolerance: 1e-12)
    // And adapting changed the figure: the first segment alone is static.
    let fixed = try net.evaluateLanguageModel(on: tokens, chunkLength: 9)
    #expect(abs(result.natsPerToken - fixed.natsPerToken) > 1e-3)
    expectClose(marks[0].sum, try net.evaluateLanguageModel(on: Array(tokens[...9])).natsPerToken * 9, relativeTolerance: 1e-12)
  }

  @Test("dynamic/no prediction depends on the characters after it")
  func causal() throws {
    let net = try EvaluationTests.tinyModel(Double.self)
    let tokens = EvaluationTests.randomTokens(64, vocabulary: 7, seed: 9)
    var changed = tokens
    for i in 40..<64 { changed[i] = (changed[i] + 3) % 7 }
    let settings = DynamicEvaluation(rule: .sgd, segmentLength: 8, learningRate: 0.5, decay: 0.1)
    let a = try Self.segments(net, tokens, settings).marks, b = try Self.segments(net, changed, settings).marks
    // Predictions 1 … 39 read and predict tokens 0 … 39 only; prediction 40 (in the segment of 33 … 40) is of a
    // changed token.
    for (x, y) in zip(a, b) where x.done < 40 { #expect(x.sum == y.sum, "after \(x.done) predictions") }
    let at40 = try #require(zip(a, b).first { $0.0.done >= 40 })
    #expect(at40.0.sum != at40.1.sum)
  }

  @Test("dynamic/a pattern the model never learnt gets cheaper as it repeats")
  func adapts() throws {
    let net = try EvaluationTests.tinyModel(Double.self)
    let motif = EvaluationTests.randomTokens(6, vocabulary: 7, seed: 12)
    let tokens = Array((0..<60).map { _ in motif }.joined())
    let fixed = try net.evaluateLanguageModel(on: tokens).natsPerToken
    let settings = DynamicEvaluation(rule: .sgd, segmentLength: 12, learningRate: 1, decay: 0)
    let (result, marks) = try Self.segments(net, tokens, settings)
    let lastSegment = (marks[marks.count - 1].sum - marks[marks.count - 2].sum) / Double(marks[marks.count - 1].done - marks[marks.count - 2].done)
    #expect(result.natsPerToken < fixed - 0.5, "dynamic \(result.natsPerToken), static \(fixed)")
    #expect(lastSegment < fixed - 0.5, "last segment \(lastSegment), static \(fixed)")
  }

  @Test("dynamic/MS_g is Adam's bias-corrected second moment or RMSprop's square average")
  func statisticsFromCheckpoint() throws {
    var net = try EvaluationTests.tinyModel(Double.self)
    let tokens = EvaluationTests.randomTokens(30, vocabulary: 7, seed: 2)
    let batch = try SequenceBatch<Double>(tokens: [tokens.dropLast().map(Int.init)], targets: [tokens.dropFirst().map(Int.init)])
    for optimizer in [Optimizer.adam(learningRate: 0.01), .rmsprop(learningRate: 0.01, alpha: 0.9)] {
      var state = OptimizerState<Double>()
      var squares: [String: [Double]] = [:]
      for _ in 0..<3 {
        let (_, g) = try net.gradient(for: batch, loss: .crossEntropy)
        for (name, t) in g.namedParameters { squares[name, default: []].append(contentsOf: t.scalars.map { $0 * $0 }) }
        optimizer.update(&net, gradient: g, state: &state)
      }
      let options = TrainerOptions(optimizer: optimizer, loss: .crossEntropy, budget: TrainingBudget(steps: 3))
      let statistics = try #require(GradientStatistics(checkpoint: Checkpoint(network: net, optimizerState: state, options: options)))
      let name = "rnn.weight_hh_l1"
      var isAdam = false
      if case .adam = optimizer.method { isAdam = true }
      let stored = state.buffers[name]![isAdam ? "exp_avg_sq" : "square_avg"]!
      let correction: Double = isAdam ? 1 / (1 - Foundation.pow(0.999, 3.0)) : 1
      expectClose(statistics.meanSquares[name]!.scalars, stored.scalars.map { $0 * correction }, relativeTolerance: 1e-12)
      #expect(Set(statistics.meanSquares.keys) == Set(net.namedParameters.map(\.name)))
    }
    // Adam's bias-corrected v after one step is exactly g².
    var fresh = try EvaluationTests.tinyModel(Double.self), state = OptimizerState<Double>()
    let (_, g) = try fresh.gradient(for: batch, loss: .crossEntropy)
    Optimizer.adam(learningRate: 0.01).update(&fresh, gradient: g, state: &state)
    let one = try #require(GradientStatistics(checkpoint: Checkpoint(
      network: fresh, optimizerState: state, options: TrainerOptions(optimizer: .adam(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(steps: 1)))))
    for (name, t) in g.namedParameters {
      expectClose(one.meanSquares[name]!.scalars, t.scalars.map { $0 * $0 }, relativeTolerance: 1e-9, name)
    }
    // No statistics without such state.
    #expect(GradientStatistics(checkpoint: Checkpoint(network: fresh)) == nil)
    #expect(GradientStatistics(checkpoint: Checkpoint(
      network: fresh, optimizerState: state, options: TrainerOptions(optimizer: .sgd(learningRate: 0.1), loss: .crossEntropy, budget: TrainingBudget(steps: 1)))) == nil)
  }

  @Test("dynamic/bad settings and statistics are one-line errors")
  func errors() throws {
    let net = try EvaluationTests.tinyModel(Double.self)
    let tokens = EvaluationTests.randomTokens(20, vocabulary: 7, seed: 1)
    let bad = [
      DynamicEvaluation(rule: .sgd, segmentLength: 0, learningRate: 0.1, decay: 0),
      DynamicEvaluation(rule: .sgd, segmentLength: 4, learningRate: -1, decay: 0),
      DynamicEvaluation(rule: .sgd, segmentLength: 4, learningRate: .nan, decay: 0),
      DynamicEvaluation(rule: .sgd, segmentLength: 4, learningRate: 0.1, decay: 1.5),
      DynamicEvaluation(rule: .rms, segmentLength: 4, learningRate: 0.1, decay: 0, epsilon: 0),
    ]
    for settings in bad {
      #expect(throws: DynamicEvaluationError.self) { try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: settings) }
    }
    let rms = DynamicEvaluation.defaults(for: .rms)
    #expect(throws: DynamicEvaluationError.self) { try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: rms) }
    var missing = Self.randomStatistics(net, seed: 1)
    missing.meanSquares["head.bias"] = nil
    #expect(throws: DynamicEvaluationError("the gradient statistics have no mean squares for 'head.bias'")) {
      try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: rms, statistics: missing)
    }
    var wrong = Self.randomStatistics(net, seed: 1)
    wrong.meanSquares["head.bias"] = Tensor(shape: [3], repeating: 1)
    #expect(throws: DynamicEvaluationError.self) { try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: rms, statistics: wrong) }
    #expect(throws: TextError.textTooShort(tokens: 1, needed: 2, purpose: "evaluation (one prediction)")) {
      try net.dynamicallyEvaluateLanguageModel(on: [Int32(2)], settings: .defaults(for: .sgd))
    }
  }
}

import Foundation
import Testing

@testable import Recur

/// Dynamic evaluation against PyTorch's own (Fixtures/generate_dynamic_evaluation_fixture.py): the same LSTM
/// language model, text, MS_g and settings, and torch's loop of nn.LSTM, F.cross_entropy and autograd with the
/// update written in torch ops, all in float64.
@Suite("Dynamic evaluation: PyTorch's figures")
struct DynamicEvaluationTorchTests {
  static let fixture = "dynamic_evaluation_reference"

  /// The fixture's model as a `RecurrentNetwork<Double>`: PyTorch's state_dict names are Recur's parameter names.
  static func network(_ fixture: Fixture) throws -> RecurrentNetwork<Double> {
    #expect(try fixture.metadata("model.cell") == "lstm")
    var net = try RecurrentNetwork<Double>(
      .languageModel(
        cell: .lstm, vocabularySize: try fixture.int("model.vocab_size"), embeddingSize: try fixture.int("model.embedding_size"),
        hiddenSize: try fixture.int("model.hidden_size"), layers: try fixture.int("model.num_layers")))
    try net.updateEachParameter { name, parameter in
      let stored: Tensor<Double> = try fixture.tensor(name, as: Double.self)
      try #require(stored.shape == parameter.shape, "\(name): fixture \(stored.shape), Recur \(parameter.shape)")
      parameter = stored
    }
    return net
  }

  /// The rule's settings as the fixture's metadata states them.
  static func settings(_ fixture: Fixture, _ rule: DynamicEvaluation.Rule) throws -> DynamicEvaluation {
    func number(_ key: String) throws -> Double {
      try #require(Double(try fixture.metadata("\(rule.rawValue).\(key)")), "\(rule.rawValue).\(key) is not a number")
    }
    return DynamicEvaluation(
      rule: rule, segmentLength: try fixture.int("\(rule.rawValue).segment_length"), learningRate: try number("learning_rate"),
      decay: try number("decay"), epsilon: rule == .rms ? try number("epsilon") : 1e-3)
  }

  @Test("dynamic/every cumulative loss sum and the mean are PyTorch's (sgd and rms rules, Double)",
        arguments: DynamicEvaluation.Rule.allCases)
  func matchesPyTorch(rule: DynamicEvaluation.Rule) throws {
    let fixture = try Fixture(Self.fixture)
    let net = try Self.network(fixture)
    let tokens = try fixture.integers("tokens").map(Int32.init)
    var meanSquares: [String: Tensor<Double>] = [:]
    for (name, _) in net.namedParameters { meanSquares[name] = try fixture.tensor("ms." + name, as: Double.self) }
    let settings = try Self.settings(fixture, rule)
    #expect(settings.segmentLength == 9 && tokens.count == 61)

    var marks: [(done: Int, sum: Double)] = []
    let result = try net.dynamicallyEvaluateLanguageModel(
      on: tokens, settings: settings, statistics: GradientStatistics(meanSquares: meanSquares),
      onSegment: { done, sum, total in
        #expect(total == tokens.count - 1)
        marks.append((done, sum))
      })

    let done = try fixture.integers("\(rule.rawValue).done")
    let sums: Tensor<Double> = try fixture.tensor("\(rule.rawValue).loss_sums", as: Double.self)
    #expect(marks.map(\.done) == done)
    try #require(marks.count == sums.count)
    for (mark, expected) in zip(marks, sums.scalars) {
      expectClose(mark.sum, expected, relativeTolerance: 1e-10, "\(rule) loss sum after \(mark.done) predictions")
    }
    #expect(result.predictions == tokens.count - 1)
    expectClose(result.natsPerToken, sums.scalars.last! / Double(tokens.count - 1), relativeTolerance: 1e-10, "\(rule) mean")
    // The figures can tell a right update from a wrong one: each segment after the first moves by far more than
    // the tolerance from its static loss.
    let still = DynamicEvaluation(rule: .sgd, segmentLength: settings.segmentLength, learningRate: 0, decay: 0)
    var staticSums: [Double] = []
    _ = try net.dynamicallyEvaluateLanguageModel(on: tokens, settings: still, onSegment: { _, sum, _ in staticSums.append(sum) })
    let moved = zip(sums.scalars, staticSums).map { abs($0 - $1) / $1 }
    #expect(moved[0] < 1e-12 && moved.dropFirst().allSatisfy { $0 > 1e-5 }, "\(rule): \(moved)")
  }
}

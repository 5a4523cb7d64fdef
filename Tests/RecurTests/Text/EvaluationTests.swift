import Foundation
import Testing

@testable import Recur

@Suite("Language model evaluation: one stream from the zero state")
struct EvaluationTests {
  static func tinyModel<S: RecurScalar>(_: S.Type, cell: CellKind = .lstm, vocabulary: Int = 7) throws -> RecurrentNetwork<S> {
    try RecurrentNetwork(
      .languageModel(cell: cell, vocabularySize: vocabulary, embeddingSize: 3, hiddenSize: 5, layers: 2), seed: 11)
  }

  static func randomTokens(_ n: Int, vocabulary: Int, seed: UInt64) -> [Int32] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
  }

  @Test("eval/chunked evaluation equals the mean cross-entropy of one stream")
  func matchesDirectComputation() throws {
    let net = try Self.tinyModel(Double.self)
    let tokens = Self.randomTokens(40, vocabulary: 7, seed: 5)
    // Every token after the first, predicted from all before it: one pass over one sequence of n − 1 steps.
    let whole = try SequenceBatch<Double>(
      tokens: [tokens.dropLast().map(Int.init)], targets: [tokens.dropFirst().map(Int.init)])
    let direct = try net.loss(for: whole, loss: .crossEntropy, reduction: .sum).elementLossSum / 39
    // And the same from the state-machine view, −ln y_t[c_{t+1}].
    let outputs = net.transduce(tokens.dropLast().map { NetworkInput<Double>.token(Int($0)) })
    var sum = 0.0
    for t in 0..<39 { sum -= Foundation.log(outputs[t][Int(tokens[t + 1])]) }
    expectClose(direct, sum / 39, relativeTolerance: 1e-12, "loss(for:) vs state machine")
    for chunk in [1, 7, 39, 256] {
      let evaluation = try net.evaluateLanguageModel(on: tokens, chunkLength: chunk)
      #expect(evaluation.predictions == 39)
      expectClose(evaluation.natsPerToken, direct, relativeTolerance: 1e-12, "chunk \(chunk)")
      expectClose(evaluation.bitsPerToken, direct / Foundation.log(2), relativeTolerance: 1e-12)
    }
  }

  @Test("eval/parallel streams would measure something else")
  func streamsDiffer() throws {
    let net = try Self.tinyModel(Double.self)
    let tokens = Self.randomTokens(41, vocabulary: 7, seed: 6)
    let one = try net.evaluateLanguageModel(on: tokens).natsPerToken
    // Two halves each from the zero state: the second half loses its context.
    let halves = try net.evaluateLanguageModel(on: Array(tokens[..<21])).natsPerToken * 20
      + net.evaluateLanguageModel(on: Array(tokens[20...])).natsPerToken * 20
    #expect(abs(one - halves / 40) > 1e-6)
  }

  @Test("eval/too short a text and a network that is not a language model are errors")
  func errors() throws {
    let net = try Self.tinyModel(Float.self)
    #expect(throws: TextError.textTooShort(tokens: 1, needed: 2, purpose: "evaluation (one prediction)")) {
      try net.evaluateLanguageModel(on: [3])
    }
    let regression = try RecurrentNetwork<Float>(.init(cell: .gru, inputSize: 2, hiddenSize: 3, outputSize: 1))
    #expect(throws: ModelError.self) { try regression.evaluateLanguageModel(on: [0, 1]) }
  }
}

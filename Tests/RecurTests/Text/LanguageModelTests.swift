import Foundation
import Testing

@testable import Recur

@Suite("A character language model end to end: streams, BPTT, evaluation, sampling")
struct LanguageModelTests {
  /// Plain gradient descent, p ← p − η g, over the fixed parameter order.
  static func descend(_ net: inout RecurrentNetwork<Float>, _ gradient: RecurrentNetwork<Float>, rate: Float) {
    let grads = gradient.namedParameters
    var i = 0
    net.updateEachParameter { _, p in
      let g = grads[i].tensor.scalars
      for k in p.scalars.indices { p.scalars[k] -= rate * g[k] }
      i += 1
    }
  }

  @Test("stream/truncated BPTT with carried state learns a repeated text; greedy sampling continues it")
  func learnsRepeatedText() throws {
    let text = String(repeating: "hello world\n", count: 30)
    let corpus = try Corpus(text: Array(text.utf8), kind: .characters)
    let (training, validation) = try corpus.split()
    var net = try RecurrentNetwork<Float>(
      .languageModel(
        cell: .lstm, vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 24, layers: 1),
      seed: 1)
    let before = try net.evaluateLanguageModel(on: validation).natsPerToken
    var streams = try StreamBatches(tokens: training, batchSize: 4, steps: 12)
    let workspace = NetworkWorkspace<Float>()
    var gradient = net.zeros()
    var state = net.zeroState(batch: 4)
    var noDropout: SeededGenerator? = nil
    for _ in 0..<250 {
      let chunk: StreamBatches.Chunk<Float> = streams.next()
      if chunk.startsStream { state = net.zeroState(batch: 4) }
      gradient.zeroAll()
      let result = try net.accumulateGradient(
        for: chunk.batch, loss: .crossEntropy, reduction: .meanOverSteps, initialState: state, into: &gradient,
        workspace: workspace, dropoutGenerator: &noDropout)
      state = result.finalState
      Self.descend(&net, gradient, rate: 1)
    }
    let after = try net.evaluateLanguageModel(on: validation).natsPerToken
    #expect(before > 2)
    #expect(after < 0.25, "validation loss \(after) nats/char")

    let sampler = try TextSampler(network: net)
    var rng = SeededGenerator(seed: 0)
    var streamed: [UInt8] = []
    let drawn = try sampler.generateText(
      vocabulary: corpus.vocabulary, mode: .stream, prime: "hello", length: 18, options: .init(temperature: 0),
      using: &rng
    ) { streamed += $0 }
    #expect(corpus.vocabulary.decode(drawn) == " world\nhello world")
    #expect(String(decoding: streamed, as: UTF8.self) == "hello world\nhello world")
  }

  @Test("lines/generation starts at <start> and stops at <end>")
  func linesMode() throws {
    let vocabulary = Vocabulary(characters: "abc\n".unicodeScalars)
    var net = try RecurrentNetwork<Float>(
      .languageModel(cell: .gru, vocabularySize: vocabulary.count, embeddingSize: 3, hiddenSize: 5, layers: 1))
    net.headBias.scalars[Int(vocabulary.endToken)] = 3
    let sampler = try TextSampler(network: net)
    var rng = SeededGenerator(seed: 2)
    var streamed: [UInt8] = []
    let drawn = try sampler.generateText(
      vocabulary: vocabulary, mode: .lines, prime: "ab", length: 500, using: &rng) { streamed += $0 }
    #expect(drawn.count < 500)
    #expect(!drawn.contains(Int(vocabulary.endToken)))
    #expect(streamed == Array("ab".utf8) + vocabulary.decodeBytes(drawn))
    #expect(throws: TextError.self) {
      try sampler.generateText(vocabulary: vocabulary, mode: .lines, prime: "abz", length: 5, using: &rng)
    }
    #expect(throws: ModelError.self) {
      try sampler.generateText(vocabulary: .bytes, mode: .lines, length: 5, using: &rng)
    }
  }
}

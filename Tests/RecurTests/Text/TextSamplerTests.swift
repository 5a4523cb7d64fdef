import Foundation
import Testing

@testable import Recur

@Suite("TextSampler: lean one-token steps and sampling")
struct GeneratorTests {
  static let cells: [CellKind] = [.rnn(.tanh), .gated(.tanh), .lstm, .gru]

  static func model(_ cell: CellKind, vocabulary: Int = 11, seed: UInt64 = 2) throws -> RecurrentNetwork<Float> {
    try RecurrentNetwork(
      .languageModel(cell: cell, vocabularySize: vocabulary, embeddingSize: 4, hiddenSize: 6, layers: 2), seed: seed)
  }

  @Test("sampler/probabilities match the batch path to 1e-5 for every cell", arguments: cells)
  func matchesBatchPath(cell: CellKind) throws {
    let net = try Self.model(cell)
    let tokens = EvaluationTests.randomTokens(25, vocabulary: 11, seed: 9).map(Int.init)
    let (outputs, finalState) = try net.outputs(for: SequenceBatch(tokens: [tokens], targets: [tokens]))
    let sampler = try TextSampler(network: net)
    for (t, token) in tokens.enumerated() {
      sampler.step(token)
      let expected = Array(outputs.scalars[(t * 11)..<((t + 1) * 11)])
      let actual = sampler.probabilities
      let worst = zip(actual, expected).map { abs($0 - $1) }.max()!
      #expect(worst <= 1e-5, "\(cell) step \(t): max difference \(worst)")
    }
    let state = sampler.state
    for l in 0..<2 {
      expectClose(state.h[l].scalars, finalState.h[l].scalars, relativeTolerance: 1e-5, "\(cell) h[\(l)]")
      if !state.c.isEmpty { expectClose(state.c[l].scalars, finalState.c[l].scalars, relativeTolerance: 1e-5) }
    }
    // After a reset the sampler starts again from s_0.
    sampler.reset()
    sampler.step(tokens[0])
    expectClose(sampler.probabilities, Array(outputs.scalars[0..<11]), relativeTolerance: 1e-6)
  }

  @Test("sampling/the same seed gives the same text, another seed another")
  func seededSampling() throws {
    let sampler = try TextSampler(network: try Self.model(.lstm))
    func draw(_ seed: UInt64) throws -> [Int] {
      var rng = SeededGenerator(seed: seed)
      return try sampler.generate(prime: [1, 2], count: 60, options: .init(temperature: 1.3), using: &rng)
    }
    let a = try draw(1)
    #expect(a.count == 60)
    #expect(try draw(1) == a)
    #expect(try draw(2) != a)
    var streamed: [Int] = []
    var rng = SeededGenerator(seed: 1)
    let b = try sampler.generate(
      prime: [1, 2], count: 60, options: .init(temperature: 1.3), using: &rng) { streamed.append($0) }
    #expect(b == a && streamed == a)
  }

  @Test("sampling/draws follow softmax(z / τ)")
  func distribution() throws {
    let sampler = try TextSampler(network: try Self.model(.gru))
    sampler.step(3)
    for temperature in [1.0, 0.5] {
      let z = sampler.withLogits { Array($0) }
      let m = z.max()!
      let w = z.map { Foundation.exp(Double($0 - m) / temperature) }
      let p = w.map { $0 / w.reduce(0, +) }
      var counts = [Int](repeating: 0, count: 11)
      var rng = SeededGenerator(seed: 4)
      let n = 40_000
      for _ in 0..<n { counts[sampler.sample(.init(temperature: temperature), using: &rng)] += 1 }
      for v in 0..<11 { #expect(abs(Double(counts[v]) / Double(n) - p[v]) < 0.015, "τ = \(temperature), token \(v)") }
    }
  }

  @Test("sampling/top-k draws only among the k largest logits; τ = 0 is greedy")
  func topK() throws {
    let sampler = try TextSampler(network: try Self.model(.lstm, vocabulary: 30))
    var rng = SeededGenerator(seed: 8)
    sampler.step(0)
    for _ in 0..<300 {
      let z = sampler.withLogits { Array($0) }
      let ranked = z.indices.sorted { z[$0] > z[$1] }
      let token = sampler.sample(.init(temperature: 2, topK: 3), using: &rng)
      #expect(ranked.prefix(3).contains(token))
      #expect(sampler.sample(.init(temperature: 1, topK: 1), using: &rng) == ranked[0])
      #expect(sampler.sample(.init(temperature: 0), using: &rng) == ranked[0])
      sampler.step(token)
    }
  }

  @Test("sampling/top-k keeps exactly k tokens when logits tie, preferring lower ids")
  func topKTies() throws {
    var net = try Self.model(.gru)
    net.headWeight.zero()
    net.headBias.scalars = [1, 3, 2, 3, 3, 0, 0, 0, 0, 0, 0]
    let sampler = try TextSampler(network: net)
    sampler.step(0)
    var rng = SeededGenerator(seed: 5)
    var seen = Set<Int>()
    for _ in 0..<400 { seen.insert(sampler.sample(.init(topK: 2), using: &rng)) }
    #expect(seen == [1, 3])
    seen = []
    for _ in 0..<400 { seen.insert(sampler.sample(.init(topK: 4), using: &rng)) }
    #expect(seen == [1, 2, 3, 4])
  }

  @Test("sampling/quickselect finds the k-th largest, with ties")
  func kthLargest() {
    var rng = SeededGenerator(seed: 12)
    for count in [1, 2, 7, 33, 100] {
      let values = (0..<count).map { _ in Float(rng.next() % 9) }
      let sorted = values.sorted(by: >)
      for k in 1...count {
        var scratch = values
        let found = scratch.withUnsafeMutableBufferPointer { TextSampler.kthLargest(k, in: $0.baseAddress!, count: count) }
        #expect(found == sorted[k - 1], "count \(count), k \(k)")
      }
    }
  }

  @Test("generation/stops at the stop token without emitting it")
  func stopToken() throws {
    var net = try Self.model(.gru)
    net.headBias.scalars[5] = 6  // make token 5 (as if <end>) very likely
    let sampler = try TextSampler(network: net)
    var rng = SeededGenerator(seed: 3)
    let out = try sampler.generate(prime: [0], count: 200, using: &rng, stopToken: 5)
    #expect(out.count < 200)
    #expect(!out.contains(5))
  }

  @Test("generation/bad options and networks are errors")
  func errors() throws {
    let sampler = try TextSampler(network: try Self.model(.rnn(.tanh)))
    var rng = SeededGenerator(seed: 0)
    #expect(throws: ModelError.self) { try sampler.generate(prime: [], count: 3, using: &rng) }
    #expect(throws: ModelError.self) { try sampler.generate(prime: [11], count: 3, using: &rng) }
    #expect(throws: ModelError.self) {
      try sampler.generate(prime: [1], count: 3, options: .init(temperature: -1), using: &rng)
    }
    #expect(throws: ModelError.self) { try sampler.generate(prime: [1], count: 3, options: .init(topK: 0), using: &rng) }
    let vectors = try RecurrentNetwork<Float>(.init(cell: .lstm, inputSize: 3, hiddenSize: 4, outputSize: 3))
    #expect(throws: ModelError.self) { try TextSampler(network: vectors) }
  }
}

import Testing

@testable import Recur

@Suite("Networks are state machines")
struct NetworkStateMachineTests {
  @Test("transduce, one step at a time, equals the batched forward pass", arguments: [CellKind.lstm, .gru, .rnn(.relu), .gated(.tanh)])
  func streamingMatchesBatch(cell: CellKind) throws {
    let net = try RecurrentNetwork<Double>(
      .init(cell: cell, inputSize: 2, hiddenSize: 5, layers: 2, outputSize: 3, outputActivation: .softmax), seed: 9)
    var rng = SeededGenerator(seed: 1)
    let xs: [[Double]] = (0..<7).map { _ in [rng.nextNormal(), rng.nextNormal()] }
    let streamed = net.transduce(xs.map { NetworkInput.vector($0) })
    let batch = try SequenceBatch<Double>(inputs: [xs], targets: [xs.map { _ in [0, 0, 0] }])
    let (outputs, final) = try net.outputs(for: batch)
    expectClose(streamed.flatMap { $0 }, outputs.scalars, relativeTolerance: 1e-12, "y_1 … y_n")
    let s = net.finalState(after: xs.map { NetworkInput.vector($0) })
    #expect(s == final)
    // The chapter's unrolled formula: y_2 = f_o(f_s(f_s(s_0, x_1), x_2)).
    let y2 = net.output(net.transition(net.transition(net.initialState, .vector(xs[0])), .vector(xs[1])))
    #expect(y2 == streamed[1])
  }

  @Test("in a padded batch each sequence ends in its own last state")
  func maskedFinalStates() throws {
    let net = try RecurrentNetwork<Double>(
      .languageModel(cell: .lstm, vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2), seed: 2)
    let sequences = [[1, 2, 3, 4, 5], [5, 4], [0, 1, 2]]
    let batch = try SequenceBatch<Double>(tokens: sequences, targets: sequences)
    let (_, final) = try net.outputs(for: batch)
    for (b, seq) in sequences.enumerated() {
      let own = net.finalState(after: seq.map { NetworkInput.token($0) })
      for l in 0..<2 {
        expectClose(Array(final.h[l].scalars[(b * 4)..<(b * 4 + 4)]), own.h[l].scalars, relativeTolerance: 1e-12)
        expectClose(Array(final.c[l].scalars[(b * 4)..<(b * 4 + 4)]), own.c[l].scalars, relativeTolerance: 1e-12)
      }
    }
  }

  @Test("bad batches are refused with a message naming the problem")
  func validation() throws {
    let net = try RecurrentNetwork<Double>(
      .languageModel(cell: .gru, vocabularySize: 4, embeddingSize: 2, hiddenSize: 3, layers: 1), seed: 2)
    let outOfVocabulary = try SequenceBatch<Double>(tokens: [[1, 7]], targets: [[1, 2]])
    #expect(throws: ModelError("token id 7 is outside the vocabulary of 4")) {
      try net.loss(for: outOfVocabulary, loss: .crossEntropy)
    }
    #expect(throws: ModelError("pair 0: x has 2 steps but y has 1")) {
      try SequenceBatch<Double>(tokens: [[1, 2]], targets: [[1]])
    }
    #expect(throws: ModelError("hidden size must be at least 1, got 0")) {
      try RecurrentNetwork<Double>(.init(cell: .lstm, inputSize: 2, hiddenSize: 0, outputSize: 1))
    }
  }
}

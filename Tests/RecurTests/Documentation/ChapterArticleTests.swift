import Foundation
import Recur
import Testing

/// The code of the articles in Sources/Recur/Recur.docc, compiled and checked through the public API only
/// (`import Recur`, not `@testable`), so that the documentation cannot drift from the library.
@Suite("Documentation/From the chapter to the code and the landing page")
struct ChapterArticleTests {
  @Test("landing page: the parity machine and the chapter's RNN as a machine")
  func landingPage() throws {
    #expect(FiniteStateMachine.parityOfZeros.transduce(["0", "1", "0"]) == ["0", "0", "1"])
    let rnn = try RecurrentNetwork<Float>(
      .init(cell: .rnn(.tanh), inputSize: 1, hiddenSize: 4, outputSize: 1), seed: 0)
    let ys = rnn.transduce([[1], [0], [1]])
    #expect(ys.count == 3 && ys.allSatisfy { $0.count == 1 })
  }

  @Test("state machines: transduce, final state, LTI impulse response")
  func stateMachines() throws {
    let parity = FiniteStateMachine.parityOfZeros
    #expect(parity.transduce(["0", "1", "0"]) == ["0", "0", "1"])
    #expect(parity.finalState(after: ["0", "0"]) == "S1")

    let decay = try LTISystem(A: [[0.8]], B: [[1]], C: [[2]])
    let y = decay.transduce([[1], [0], [0]])
    #expect(zip(y.map { $0[0] }, [2.0, 1.6, 1.28]).allSatisfy { abs($0 - $1) < 1e-12 })
  }

  /// The article's RNN: ℓ = 2, m = 3, v = 1.
  static func chapterRNN() throws -> RecurrentNetwork<Double> {
    try RecurrentNetwork<Double>(.init(cell: .rnn(.tanh), inputSize: 2, hiddenSize: 3, outputSize: 1), seed: 0)
  }

  @Test("RNN: the shapes of W^sx, W^ss, W^o and one step by the chapter's formula")
  func recurrentNetwork() throws {
    let rnn = try Self.chapterRNN()
    let layer = rnn.stack.layers[0]
    #expect(layer.weightIH.shape == [3, 2])
    #expect(layer.weightHH.shape == [3, 3])
    #expect(rnn.headWeight.shape == [1, 3])
    let s1 = rnn.transition(rnn.initialState, [1, 0])
    let y1 = rnn.output(s1)

    // By hand: s_1 = tanh(W^sx x_1 + W^ss s_0 + W^ss_0) with s_0 = 0, y_1 = W^o s_1 + W^o_0.
    let x = [1.0, 0.0]
    let s = (0..<3).map { i in
      Foundation.tanh(
        (0..<2).reduce(0.0) { $0 + layer.weightIH[i, $1] * x[$1] } + layer.biasIH.scalars[i] + layer.biasHH.scalars[i])
    }
    #expect(zip(s1.h[0].scalars, s).allSatisfy { abs($0 - $1) < 1e-12 })
    let y = (0..<3).reduce(rnn.headBias.scalars[0]) { $0 + rnn.headWeight[0, $1] * s[$1] }
    #expect(abs(y1[0] - y) < 1e-12)
  }

  @Test("language model: the chapter's pair x = (<start>, c…), y = (c…, <end>)")
  func languageModelPair() throws {
    let vocabulary = Vocabulary(characters: "ab\n".unicodeScalars)
    let text = try vocabulary.encode("ab\nba\n")
    let lines = try SequenceBatches(
      tokens: text, vocabulary: vocabulary, segmentation: .lines, batchSize: 2, maxSteps: 8)
    let (x, y) = lines.pair(0)
    let a = Int(try vocabulary.encode("a")[0]), b = Int(try vocabulary.encode("b")[0])
    #expect(x == [Int(vocabulary.startToken), a, b])
    #expect(y == [a, b, Int(vocabulary.endToken)])
  }

  @Test("BPTT: J(W), dJ/dW^ss and ‖δ^{s_t}‖ with δ^{s_n} = 0")
  func backPropagationThroughTime() throws {
    let rnn = try Self.chapterRNN()
    let pair = try SequenceBatch<Double>(
      inputs: [[[1, 0], [0, 1], [1, 1]]], targets: [[[0.5], [-0.5], [0]]])
    var gradient = rnn.zeros()
    var noDropout: SeededGenerator? = nil
    let result = try rnn.accumulateGradient(
      for: pair, loss: .squaredError, into: &gradient, dropoutGenerator: &noDropout,
      recordFutureLossGradients: true)
    let norms = try #require(result.futureLossGradientNorms)

    // J(W) for one pair is L_seq = Σ_t (g_t − y_t)².
    let g = try rnn.outputs(for: pair).outputs.scalars
    let expected = zip(g, [0.5, -0.5, 0]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    #expect(abs(result.loss - expected) < 1e-12)
    #expect(gradient.stack.layers[0].weightHH.shape == [3, 3])
    #expect(gradient.stack.layers[0].weightHH.norm > 0)
    #expect(norms.count == 1 && norms[0].count == 3)
    #expect(norms[0][2] == 0)
    #expect(norms[0][0] > 0 && norms[0][1] > 0)
  }
}

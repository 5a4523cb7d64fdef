import Recur
import Testing

/// The README's tour of recurrent networks, through the public API only, with its claims checked.
@Suite("Documentation/README")
struct ReadmeTests {
  @Test("Recurrent networks and back-propagation through time")
  func recurrentNetworksTour() throws {
    let net = try RecurrentNetwork<Double>(
      .init(cell: .rnn(.tanh), inputSize: 2, hiddenSize: 8, outputSize: 1, outputActivation: .identity), seed: 1)
    let ys = net.transduce([[0.5, -1], [1, 0]] as [NetworkInput<Double>])
    #expect(ys.count == 2 && ys[0].count == 1)

    let batch = try SequenceBatch<Double>(
      inputs: [[[1, 0], [0, 1], [1, 1]], [[0, 0]]], targets: [[[1], [0], [1]], [[0]]])
    let (result, gradient) = try net.gradient(for: batch, loss: .squaredError)
    // J(W) = (1/q) Σ_i L_seq: the mean over the two sequences of their summed squared errors.
    let first = net.transduce([[1, 0], [0, 1], [1, 1]] as [NetworkInput<Double>])
    let second = net.transduce([[0, 0]] as [NetworkInput<Double>])
    let lossFirst = zip(first, [1.0, 0, 1]).reduce(0) { $0 + ($1.0[0] - $1.1) * ($1.0[0] - $1.1) }
    let lossSecond = second[0][0] * second[0][0]
    #expect(abs(result.loss - (lossFirst + lossSecond) / 2) < 1e-12)
    #expect(gradient.stack.layers[0].weightHH.shape == net.stack.layers[0].weightHH.shape)
  }
}

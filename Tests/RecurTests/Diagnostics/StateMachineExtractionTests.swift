import Foundation
import Testing

@testable import Recur

@Suite("State machines back out of networks")
struct StateMachineExtractionTests {
  /// A two-unit tanh RNN whose weights implement the parity of zeros exactly (gain K): unit a fires when
  /// the count was even and the digit is "1", unit b when the count was odd and the digit is "0"; the count
  /// is even after a step exactly when one of them fires, (h_a + h_b)/2 + 1 ∈ {0, 1}.
  static func parityNetwork(gain K: Double = 10) throws -> RecurrentNetwork<Double> {
    var net = try RecurrentNetwork<Double>(
      .init(cell: .rnn(.tanh), inputSize: 2, hiddenSize: 2, outputSize: 1, outputActivation: .sigmoid), seed: 0)
    let layer = 0
    net.stack.layers[layer].weightIH.scalars = [0, K, K, 0]  // x = ("0", "1") one-hot
    net.stack.layers[layer].weightHH.scalars = [K / 2, K / 2, -K / 2, -K / 2]
    net.stack.layers[layer].biasIH.scalars = [-K / 2, -3 * K / 2]
    net.stack.layers[layer].biasHH.scalars = [0, 0]
    net.headWeight.scalars = [K, K]  // even ⇔ h_a + h_b ≈ 0; odd ⇔ ≈ −2
    net.headBias.scalars = [K]
    return net
  }

  static let alphabet: [(name: String, input: NetworkInput<Double>)] = [("0", [1, 0]), ("1", [0, 1])]

  @Test("the hand-built network computes parity on every string up to length 10")
  func handBuiltNetworkIsParity() throws {
    let net = try Self.parityNetwork()
    let machine = FiniteStateMachine.parityOfZeros
    for n in 1...10 {
      for code in 0..<(1 << n) {
        let digits = (0..<n).map { (code >> $0) & 1 == 0 ? "0" : "1" }
        let outputs = net.transduce(digits.map { ParityTask.input($0) as NetworkInput<Double> }).map(ParityTask.label)
        #expect(outputs == machine.transduce(digits), "\(digits.joined())")
      }
    }
  }

  @Test("the machine extracted from a parity network minimizes to the chapter's two-state parity machine")
  func extractsParity() throws {
    let net = try Self.parityNetwork()
    let extracted = try StateMachineExtraction.extract(
      from: net, alphabet: Self.alphabet, label: ParityTask.label, target: .parityOfZeros,
      options: .init(sampleCount: 100, checkCount: 100, seed: 4))
    #expect(extracted.minimized.states.count == 2)
    #expect(extracted.equivalentToTarget == true)
    #expect(extracted.minimized.isEquivalent(to: .parityOfZeros, observing: .outputs))
    #expect(extracted.agreementWithNetwork == 1)
    #expect(extracted.agreementWithTarget == 1)
    // s_0 = 0 is its own cluster and two "even" clusters exist before minimization.
    #expect(extracted.machine.states.count > 2)
    let dot = extracted.minimized.graphvizDOT(name: "extracted")
    #expect(dot.hasPrefix("digraph \"extracted\""))
  }

  @Test("an RNN trained on parity (fixed seed, 1000 steps) gives back the two-state parity machine")
  func trainedNetwork() throws {
    let task = try ParityTask(maxLength: 10)
    let trained: TaskTrainingResult<Float> = try task.train(
      cell: .rnn(.tanh), hiddenSize: 8, options: TaskTrainingOptions(batchSize: 32, steps: 1000, seed: 1))
    var g = SeededGenerator(seed: 2)
    #expect(try task.evaluate(trained.network, generator: &g).solved)
    let alphabet: [(name: String, input: NetworkInput<Float>)] = [("0", [1, 0]), ("1", [0, 1])]
    let extracted = try StateMachineExtraction.extract(
      from: trained.network, alphabet: alphabet, label: ParityTask.label, target: .parityOfZeros,
      options: .init(sampleCount: 100, checkCount: 100, seed: 1))
    #expect(extracted.minimized.states.count == 2)
    #expect(extracted.equivalentToTarget == true)
    #expect(extracted.agreementWithNetwork > 0.99)
  }

  @Test("too few clusters are rejected by agreement; a network that is not parity is told apart from parity")
  func agreementDecides() throws {
    let net = try Self.parityNetwork()
    let forcedTwo = try StateMachineExtraction.extract(
      from: net, alphabet: Self.alphabet, label: ParityTask.label, target: .parityOfZeros,
      options: .init(clusterCounts: [1], sampleCount: 50, checkCount: 50, seed: 2))
    #expect(forcedTwo.agreementWithNetwork < 0.9)
    #expect(forcedTwo.equivalentToTarget == false)

    // Outputs "1" after every digit "1": the machine "last digit was 1", not parity.
    var other = try RecurrentNetwork<Double>(
      .init(cell: .rnn(.tanh), inputSize: 2, hiddenSize: 1, outputSize: 1, outputActivation: .sigmoid), seed: 0)
    other.stack.layers[0].weightIH.scalars = [-5, 5]
    other.stack.layers[0].weightHH.scalars = [0]
    other.stack.layers[0].biasIH.scalars = [0]
    other.stack.layers[0].biasHH.scalars = [0]
    other.headWeight.scalars = [10]
    other.headBias.scalars = [0]
    let extracted = try StateMachineExtraction.extract(
      from: other, alphabet: Self.alphabet, label: ParityTask.label, target: .parityOfZeros,
      options: .init(sampleCount: 50, checkCount: 50, seed: 2))
    #expect(extracted.agreementWithNetwork == 1)
    #expect(extracted.equivalentToTarget == false)
    #expect((extracted.networkAgreementWithTarget ?? 1) < 0.8)
  }

  @Test("k-means with a seeded start finds well-separated clusters and is reproducible")
  func kMeans() {
    var rng = SeededGenerator(seed: 9)
    let centres: [[Double]] = [[0, 0], [5, 5], [-5, 5]]
    var points: [[Double]] = []
    for i in 0..<90 { points.append(centres[i % 3].map { $0 + 0.1 * rng.nextNormal() }) }
    var g1 = SeededGenerator(seed: 1), g2 = SeededGenerator(seed: 1)
    let a = StateMachineExtraction.kMeans(points, k: 3, iterations: 20, generator: &g1)
    let b = StateMachineExtraction.kMeans(points, k: 3, iterations: 20, generator: &g2)
    #expect(a.assignment == b.assignment)
    for i in 3..<90 { #expect(a.assignment[i] == a.assignment[i % 3]) }
    #expect(Set(a.assignment).count == 3)
  }
}

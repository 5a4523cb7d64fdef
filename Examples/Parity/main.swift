// Teaches a recurrent network the chapter's parity machine — the finite state machine that ends in S1 iff
// its binary input has an even number of zeros — runs the network as a state machine beside it, and extracts
// a finite state machine back out of the network's states.
//
//     swift run ParityExample
import Recur

let machine = FiniteStateMachine.parityOfZeros

/// A string as the network's inputs: "0" → [1, 0], "1" → [0, 1].
func encode(_ string: [String]) -> [[Float]] { string.map { $0 == "0" ? [1, 0] : [0, 1] } }

/// The machine's outputs y_1 … y_n ("1" after an even number of zeros) as 0/1 targets.
func targets(_ string: [String]) -> [[Float]] { machine.transduce(string).map { [$0 == "1" ? 1 : 0] } }

/// Every binary string of the given length.
func strings(length: Int) -> [[String]] {
  (0..<(1 << length)).map { n in (0..<length).map { (n >> ($0)) & 1 == 0 ? "0" : "1" } }
}

do {
  // Training set: 400 random strings of lengths 1 to 10, labelled by the machine itself.
  var random = SeededGenerator(seed: 3)
  let training = (0..<400).map { _ in
    (0..<(1 + Int(random.next() % 10))).map { _ in random.nextUnit() < 0.5 ? "0" : "1" }
  }
  let trainer = try Trainer(
    network: try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 2, hiddenSize: 6, outputSize: 1, outputActivation: .sigmoid), seed: 1),
    data: try SequencePairs<Float>(
      .vectors(inputs: training.map(encode), targets: training.map(targets)), batchSize: 32, seed: 4),
    options: TrainerOptions(
      optimizer: .adam(learningRate: 0.03), clipping: .globalNorm(5), loss: .binaryCrossEntropy,
      budget: TrainingBudget(steps: 400)))
  trainer.onProgress = { progress in
    if progress.report.step % 100 == 0 {
      print("step \(progress.report.step): loss \((progress.report.loss * 1000).rounded() / 1000)")
    }
  }
  try trainer.run()
  let network = trainer.network.mapOutput { $0[0] > 0.5 ? "1" : "0" }

  // The network is a state machine too: transduce strings with both.
  print("\ninput         machine       network")
  for string in ["0", "00", "0110", "10101", "000111000", "1101001110"] {
    let input = string.map { String($0) }
    let expected = machine.transduce(input).joined()
    let got = network.transduce(encode(input).map { .vector($0) }).joined()
    print(
      string.padding(toLength: 14, withPad: " ", startingAt: 0) + expected.padding(toLength: 14, withPad: " ", startingAt: 0)
        + got + (got == expected ? "" : "   ✗"))
  }

  // Every string of length 1 … 12, including lengths the network never saw.
  print("\nlength  strings  the network's last output agrees with the machine")
  for length in 1...12 {
    let all = strings(length: length)
    let agree = all.filter { s in
      network.transduce(encode(s).map { .vector($0) }).last == machine.transduce(s).last
    }.count
    print("\(length)".padding(toLength: 8, withPad: " ", startingAt: 0) + "\(all.count)".padding(toLength: 9, withPad: " ", startingAt: 0) + "\(agree)")
  }

  // Extraction: cluster the network's states, read off the transitions, minimize.
  let extracted = try StateMachineExtraction.extract(
    from: trainer.network, alphabet: [("0", .vector([1, 0])), ("1", .vector([0, 1]))],
    label: { $0[0] > 0.5 ? "1" : "0" }, target: machine)
  print(
    "\nextracted from the network: \(extracted.clusterCount) clusters of states,",
    "\(extracted.minimized.states.count) states after minimization,",
    "equivalent to the parity machine: \(extracted.equivalentToTarget == true ? "yes" : "no")")
  print(extracted.minimized.tableDescription)
} catch {
  print("error: \(error)")
}

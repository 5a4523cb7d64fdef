// Trains a small GRU to tell from noisy sensor readings whether a machine is running, then classifies a
// live stream one reading at a time, using the trained network as a state machine.
//
//     swift run SensorStreamExample
import Recur

/// Noisy readings of a machine that switches between idle (0) and running (1), and its true states.
func sensorPairs(count: Int, steps: Int, seed: UInt64) -> (inputs: [[[Float]]], targets: [[[Float]]]) {
  var random = SeededGenerator(seed: seed)
  var inputs: [[[Float]]] = [], targets: [[[Float]]] = []
  for _ in 0..<count {
    var running = random.nextUnit() < 0.5
    var x: [[Float]] = [], y: [[Float]] = []
    for _ in 0..<steps {
      if random.nextUnit() < 0.1 { running.toggle() }
      x.append([Float((running ? 1 : 0) + 0.6 * random.nextNormal())])
      y.append([running ? 1 : 0])
    }
    inputs.append(x)
    targets.append(y)
  }
  return (inputs, targets)
}

do {
  // Train on 128 recorded sequences of 30 readings.
  let (inputs, targets) = sensorPairs(count: 128, steps: 30, seed: 1)
  let trainer = try Trainer(
    network: try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 1, hiddenSize: 8, outputSize: 1, outputActivation: .sigmoid), seed: 0),
    data: try SequencePairs<Float>(.vectors(inputs: inputs, targets: targets), batchSize: 16, seed: 2),
    options: TrainerOptions(
      optimizer: .adam(learningRate: 0.02), loss: .binaryCrossEntropy, budget: TrainingBudget(steps: 300)))
  trainer.onProgress = { progress in
    if progress.report.step % 100 == 0 {
      print("step \(progress.report.step): loss \((progress.report.loss * 1000).rounded() / 1000)")
    }
  }
  try trainer.run()
  let classifier = trainer.network

  // A live stream: one reading at a time, the state carried from reading to reading.
  let (stream, truth) = sensorPairs(count: 1, steps: 40, seed: 77)
  print("\n  t  reading  p(running)  says     truth")
  var state = classifier.initialState
  var right = 0, naive = 0
  for (t, (reading, actual)) in zip(stream[0], truth[0]).enumerated() {
    let (next, output) = classifier.step(state, .vector(reading))
    state = next
    let says = output[0] > 0.5, isRunning = actual[0] > 0.5
    right += says == isRunning ? 1 : 0
    naive += (reading[0] > 0.5) == isRunning ? 1 : 0
    let p = (output[0] * 100).rounded() / 100
    let r = (reading[0] * 100).rounded() / 100
    print(
      String(repeating: " ", count: t + 1 < 10 ? 2 : 1) + "\(t + 1)  " + "\(r)".padding(toLength: 7, withPad: " ", startingAt: 0)
        + "  \(p)".padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + (says ? "running" : "idle   ")
        + "  " + (isRunning ? "running" : "idle") + (says == isRunning ? "" : "   ✗"))
  }
  print("\nthe network is right at \(right) of 40 steps; a threshold on each reading alone at \(naive)")
} catch {
  print("error: \(error)")
}

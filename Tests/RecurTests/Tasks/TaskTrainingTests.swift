import Foundation
import Testing

@testable import Recur

/// A task is a training data source: tasks train through the one training loop, ``Trainer``.
@Suite("Tasks/training through the Trainer")
struct TaskTrainingTests {
  @Test("SequenceTask.train is a Trainer over TaskBatches; a task run stopped and resumed ends on the same weights")
  func taskThroughTrainer() throws {
    let task = try AddingTask(length: 12)  // a final-step task: the loss at each sequence's last step only
    let options = TaskTrainingOptions(batchSize: 8, steps: 12, seed: 4)
    let network = try RecurrentNetwork<Float>(task.networkConfiguration(cell: .gru, hiddenSize: 6), seed: 4)
    let viaTask: TaskTrainingResult<Float> = try task.train(network, options: options)
    #expect(viaTask.steps == 12 && viaTask.losses.count == 12)

    let trainerOptions = options.trainerOptions(loss: task.loss)
    let straight = try Trainer(
      network: network, data: TaskBatches<Float>(task, batchSize: 8, seed: 4), options: trainerOptions)
    try straight.run()
    #expect(parameterBits(straight.network) == parameterBits(viaTask.network))

    let first = try Trainer(
      network: network, data: TaskBatches<Float>(task, batchSize: 8, seed: 4), options: trainerOptions)
    let stop = first.stopFlag
    first.onProgress = { if $0.report.step == 5 { stop.requestStop() } }
    try first.run()
    let resumed = try Trainer(
      resuming: first.checkpoint(), data: TaskBatches<Float>(task, batchSize: 8, seed: 4))
    #expect(try resumed.run().reason == .stepBudget)
    #expect(parameterBits(resumed.network) == parameterBits(straight.network))
  }

  @Test("the final-step form of the loss path equals the per-step form with targets at the last steps only")
  func finalStepFormAgrees() throws {
    let config = RecurrentNetwork<Double>.Configuration(
      cell: .lstm, inputSize: 3, hiddenSize: 5, layers: 2, outputSize: 4, outputActivation: .softmax)
    let net = try RecurrentNetwork<Double>(config, seed: 9)
    var rng = SeededGenerator(seed: 9)
    let lengths = [6, 2, 4], T = 6, B = 3
    let x = (0..<(T * B * 3)).map { _ in rng.nextNormal() }
    let last = [1, 3, 0]
    // Per-step targets: a class at each sequence's last step, "none" (-1) everywhere else.
    var perStep = [Int32](repeating: -1, count: T * B)
    for b in 0..<B { perStep[(lengths[b] - 1) * B + b] = Int32(last[b]) }
    let batch = try SequenceBatch<Double>(
      steps: T, batchSize: B, lengths: lengths, inputs: .vectors(x, features: 3), targets: .classes(perStep))

    var noDropout: SeededGenerator? = nil
    var viaSteps = net.zeros(), viaFinal = net.zeros()
    let a = try net.accumulateGradient(for: batch, loss: .crossEntropy, into: &viaSteps, dropoutGenerator: &noDropout)
    let b = try net.accumulateGradient(
      for: batch, finalTargets: .classes(last), loss: .crossEntropy, into: &viaFinal, dropoutGenerator: &noDropout)
    expectClose(b.loss, a.loss, relativeTolerance: 1e-12, "loss")
    #expect(a.elementCount == B && b.elementCount == B)
    for ((name, g), (_, h)) in zip(viaFinal.namedParameters, viaSteps.namedParameters) {
      expectClose(g.scalars, h.scalars, relativeTolerance: 1e-12, "d\(name)")
    }
  }
}

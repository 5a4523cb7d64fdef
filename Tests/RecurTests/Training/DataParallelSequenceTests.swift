import Foundation
import Testing

@testable import Recur

/// The one loss path with one label per sequence, split across thread ranks: the weighted mean's
/// 1/Σ_b w_{y_b} is taken over the whole batch, so N ranks take the steps one process takes.
@Suite("Data-parallel training with one label per sequence")
struct DataParallelSequenceTests {
  /// Ten 2-feature sequences of 2–5 steps with labels 0, 1, 2, 0, …
  static func dataset() throws -> SequenceDataset {
    var rng = SeededGenerator(seed: 5)
    let lines = (0..<10).map { i in
      let x = (0..<(2 + i % 4)).map { _ in "[\(rng.nextNormal()), \(rng.nextNormal())]" }
      return "{\"x\": [\(x.joined(separator: ", "))], \"y\": \(i % 3)}"
    }
    return try SequenceDataset.parse(lines.joined(separator: "\n"), format: .jsonLines)
  }

  /// SGD (so that a wrong scale of the gradient changes the result) for 6 steps on N ranks; every rank's
  /// parameters, followed by the losses the rank reported (rank 0 reports progress).
  static func train(
    ranks: Int, readout: SequenceReadout, classWeights: [Double]?, overlap: Bool = false
  ) throws -> [[Double]] {
    let dataset = try dataset()
    let net = try RecurrentNetwork<Float>(
      .init(
        cell: .gru, inputSize: 2, hiddenSize: 4, layers: 2, outputSize: 3, outputActivation: .softmax, dropout: 0.2,
        bidirectional: true), seed: 6)
    return try ThreadRanks.run(size: ranks) { communicator in
      var options = TrainerOptions(
        optimizer: .sgd(learningRate: 0.5), loss: .crossEntropy, reduction: .meanOverSequences,
        budget: TrainingBudget(steps: 6), seed: 99)
      options.readout = readout
      options.classWeights = classWeights
      let trainer = try Trainer(network: net, data: try SequencePairs<Float>(dataset, batchSize: 4, seed: 7), options: options)
      trainer.communicator = overlap ? ThreadRanks.OverlappingRank(communicator) : communicator
      var losses: [Double] = []
      trainer.onProgress = { losses.append($0.report.loss) }
      try trainer.run()
      return trainer.network.flattened().map(Double.init) + losses
    }
  }

  @Test("2 thread ranks equal 1: class weights, max and last readouts, a bidirectional GRU with dropout")
  func weightedReadoutRanks() throws {
    for (readout, weights) in [(SequenceReadout.max, [1, 3, 0.5] as [Double]?), (.last, [2, 1, 1]), (.mean, nil)] {
      let one = try Self.train(ranks: 1, readout: readout, classWeights: weights)[0]
      let two = try Self.train(ranks: 2, readout: readout, classWeights: weights)
      expectClose(two[0], one, relativeTolerance: 1e-5, "\(readout), weights \(weights ?? [])")
      #expect(two[0].prefix(two[1].count) == two[1][...])
      #expect(two[0].count > two[1].count)  // rank 0's losses, compared with one process's above
      // The overlapped reduction (reverse layers packed after the forward ones) equals the reduction after BPTT.
      #expect(try Self.train(ranks: 2, readout: readout, classWeights: weights, overlap: true) == two)
      // The weights change the run (the test would not pass with them ignored on one side only).
      if weights != nil {
        let unweighted = try Self.train(ranks: 1, readout: readout, classWeights: nil)[0]
        #expect(zip(unweighted, one).contains { abs($0 - $1) > 1e-4 })
      }
    }
  }
}

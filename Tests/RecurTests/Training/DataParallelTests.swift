import Foundation
import Testing

@testable import Recur

/// N ranks as threads of one process: a ``Communicator`` whose collective operations meet at a barrier, so the
/// trainer's data-parallel path is tested without MPI. Sums are taken in rank order, in Double.
final class ThreadRanks: @unchecked Sendable {
  let size: Int
  private let condition = NSCondition()
  private var arrived = 0, generation = 0
  private var slots: [[Double]]
  private var bytes: [UInt8] = []

  init(size: Int) {
    self.size = size
    slots = Array(repeating: [], count: size)
  }

  func barrier() {
    condition.lock()
    defer { condition.unlock() }
    let mine = generation
    arrived += 1
    if arrived == size {
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == mine { condition.wait() }
    }
  }

  func sum(_ values: [Double], rank: Int) -> [Double] {
    condition.lock()
    slots[rank] = values
    condition.unlock()
    barrier()
    condition.lock()
    var total = [Double](repeating: 0, count: values.count)
    for r in 0..<size { for i in total.indices { total[i] += slots[r][i] } }
    condition.unlock()
    barrier()
    return total
  }

  func broadcast(_ values: [UInt8], rank: Int, root: Int) -> [UInt8] {
    if rank == root {
      condition.lock()
      bytes = values
      condition.unlock()
    }
    barrier()
    condition.lock()
    let result = bytes
    condition.unlock()
    barrier()
    return result
  }

  /// Rank `rank`'s view.
  final class Rank: Communicator, @unchecked Sendable {
    let ranks: ThreadRanks
    let rank: Int
    var size: Int { ranks.size }
    init(_ ranks: ThreadRanks, rank: Int) {
      self.ranks = ranks
      self.rank = rank
    }
    func allreduceSum(_ values: inout [Float]) throws {
      values = ranks.sum(values.map(Double.init), rank: rank).map { Float($0) }
    }
    func allreduceSum(_ values: inout [Double]) throws { values = ranks.sum(values, rank: rank) }
    func startAllreduceSum(_ values: [Float]) throws -> ReductionRequest<Float> {
      let sums = ranks.sum(values.map(Double.init), rank: rank).map { Float($0) }
      return ReductionRequest { sums }
    }
    func startAllreduceSum(_ values: [Double]) throws -> ReductionRequest<Double> {
      let sums = ranks.sum(values, rank: rank)
      return ReductionRequest { sums }
    }
    func broadcast(_ bytes: inout [UInt8], root: Int) throws { bytes = ranks.broadcast(bytes, rank: rank, root: root) }
    func barrier() throws { ranks.barrier() }
    func abort(status: Int32) -> Never { fatalError("abort \(status)") }
  }

  /// Rank `rank`'s view, with the trainer's overlapped reduction: each segment is summed (in rank order, in
  /// Double, as ``Rank/allreduceSum(_:)-(inout [Float])``) when it is started.
  final class OverlappingRank: Communicator, InPlaceReducing, @unchecked Sendable {
    let base: Rank
    var rank: Int { base.rank }
    var size: Int { base.size }
    /// The segment lengths started, in order.
    var started: [Int] = []
    init(_ base: Rank) { self.base = base }
    func allreduceSum(_ values: inout [Float]) throws { try base.allreduceSum(&values) }
    func allreduceSum(_ values: inout [Double]) throws { try base.allreduceSum(&values) }
    func startAllreduceSum(_ values: [Float]) throws -> ReductionRequest<Float> { try base.startAllreduceSum(values) }
    func startAllreduceSum(_ values: [Double]) throws -> ReductionRequest<Double> { try base.startAllreduceSum(values) }
    func broadcast(_ bytes: inout [UInt8], root: Int) throws { try base.broadcast(&bytes, root: root) }
    func barrier() throws { try base.barrier() }
    func abort(status: Int32) -> Never { base.abort(status: status) }
    func startAllreduceSum<S: RecurScalar>(inPlace values: UnsafeMutablePointer<S>, count: Int) throws -> Int {
      let buffer = UnsafeMutableBufferPointer(start: values, count: count)
      let sums = base.ranks.sum(buffer.map { Double($0) }, rank: rank)
      for i in 0..<count { buffer[i] = S.self == Float.self ? S(Float(sums[i])) : S(sums[i]) }
      started.append(count)
      return started.count - 1
    }
    func progress(_ request: Int) {}
    func wait(_ request: Int) throws {}
  }

  /// Runs `body` on every rank in its own thread and returns the results in rank order.
  static func run<R>(size: Int, _ body: @escaping @Sendable (Rank) throws -> R) throws -> [R] {
    let ranks = ThreadRanks(size: size)
    let results = Results<R>(count: size)
    let group = DispatchGroup()
    for r in 0..<size {
      let thread = Thread {
        results.set(r, Result { try body(Rank(ranks, rank: r)) })
        group.leave()
      }
      thread.stackSize = 8 << 20
      group.enter()
      thread.start()
    }
    group.wait()
    return try results.values.map { try $0!.get() }
  }

  final class Results<R>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<R, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<R, any Error>) {
      lock.lock()
      values[i] = value
      lock.unlock()
    }
  }
}

@Suite("Data-parallel training")
struct DataParallelTests {
  @Test("Dropout masks: the rows of a split batch get the masks of the whole batch")
  func masksDoNotDependOnTheSplit() {
    let masks = DropoutMasks(key: 0xABCD, firstStream: 0)
    let T = 5, B = 6, W = 7
    var whole = [Float](repeating: -1, count: T * B * W)
    masks.fill(&whole, slot: .layerInput(2), steps: T, batch: B, width: W, probability: 0.3)
    var kept = 0
    for first in [0, 2, 5] {
      let end = first == 0 ? 2 : first == 2 ? 5 : 6
      let part = DropoutMasks(key: 0xABCD, firstStream: first)
      var rows = [Float](repeating: -1, count: T * (end - first) * W)
      part.fill(&rows, slot: .layerInput(2), steps: T, batch: end - first, width: W, probability: 0.3)
      for t in 0..<T {
        for b in first..<end {
          for j in 0..<W {
            #expect(rows[(t * (end - first) + b - first) * W + j] == whole[(t * B + b) * W + j])
          }
        }
      }
    }
    for v in whole where v != 0 {
      #expect(abs(v - 1 / 0.7) < 1e-6)
      kept += 1
    }
    // About 70% kept, and another layer gets other masks.
    #expect(kept > whole.count / 2 && kept < whole.count * 9 / 10)
    var other = [Float](repeating: -1, count: T * B * W)
    masks.fill(&other, slot: .layerInput(1), steps: T, batch: B, width: W, probability: 0.3)
    #expect(other != whole)
  }

  @Test("Batch rows: a slice holds the chosen sequences, cut to their longest")
  func batchRows() throws {
    let batch = try SequenceBatch<Float>(tokens: [[1, 2, 3], [4], [5, 6], [0, 1, 2, 3]], targets: [[2, 3, 4], [5], [6, 0], [1, 2, 3, 4]])
    let part = try #require(batch.rows(1..<3))
    #expect(part.batchSize == 2 && part.steps == 2 && part.lengths == [1, 2])
    let single = try SequenceBatch<Float>(tokens: [[4], [5, 6]], targets: [[5], [6, 0]])
    #expect(part.lengths == single.lengths)
    if case .tokens(let a) = part.inputs, case .tokens(let b) = single.inputs { #expect(a[0] == b[0] && a[1] == b[1] && a[3] == b[3]) }
    #expect(batch.rows(2..<2) == nil)
    #expect(DataParallel.rows(batch: 10, rank: 1, ranks: 4) == 2..<5)
    #expect(DataParallel.rows(batch: 8, rank: 3, ranks: 4) == 6..<8)
  }

  /// Trains `steps` steps on N thread ranks and returns rank 0's parameters and optimizer state and every
  /// rank's parameters.
  static func train<D: TrainingData & Sendable>(
    ranks: Int, data: D, network: RecurrentNetwork<Float>, steps: Int, validate: Bool = false,
    overlap: Bool = false
  ) throws -> [[Float]] where D.Scalar == Float {
    try ThreadRanks.run(size: ranks) { communicator in
      var options = TrainerTests.options(steps: steps)
      options.validationInterval = validate ? 2 : nil
      let trainer = try Trainer(network: network, data: data, options: options)
      trainer.communicator = overlap ? ThreadRanks.OverlappingRank(communicator) : communicator
      if validate {
        let tokens = TrainerTests.stream(count: 200, vocabulary: 7, seed: 77)
        trainer.validation = {
          try $0.evaluateLanguageModel(on: tokens, streams: 4, chunkLength: 16, communicator: communicator).natsPerToken
        }
      }
      try trainer.run()
      var state: [Float] = []
      for (_, tensor) in trainer.optimizerState.namedTensors { state += tensor.scalars }
      return trainer.network.flattened() + state + [Float(trainer.position.lastValidationLoss ?? 0)]
    }
  }

  @Test("2 and 4 thread ranks equal 1 (stream mode, LSTM, 2 layers, dropout, truncated BPTT, validation)")
  func streamRanks() throws {
    let net = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3)
    let data = try TextBatches<Float>.stream(
      tokens: TrainerTests.stream(count: 500, vocabulary: 7, seed: 1), batchSize: 4, steps: 6)
    let one = try Self.train(ranks: 1, data: data, network: net, steps: 12, validate: true)[0]
    for n in [2, 4] {
      let many = try Self.train(ranks: n, data: data, network: net, steps: 12, validate: true)
      for r in 0..<n { expectClose(many[r], one, relativeTolerance: 1e-5, "\(n) ranks, rank \(r)") }
      #expect(many[0] == many[n - 1])
    }
  }

  @Test("2 thread ranks equal 1 (full BPTT over pairs of different lengths, GRU, dropout, a short last batch)")
  func pairRanks() throws {
    var configuration = TrainerTests.languageModel
    configuration.cell = .gru
    let net = try RecurrentNetwork<Float>(configuration, seed: 4)
    let data = try TrainerTests.pairs()  // 9 pairs in batches of 4: the last batch of a pass has one pair
    let one = try Self.train(ranks: 1, data: data, network: net, steps: 9)[0]
    let two = try Self.train(ranks: 2, data: data, network: net, steps: 9)
    expectClose(two[0], one, relativeTolerance: 1e-5, "2 ranks")
    #expect(two[0] == two[1])
  }

  @Test("The overlapped reduction equals the reduction after BPTT (stream LSTM; pairs GRU with a rank without rows)")
  func overlappedReduction() throws {
    let stream = try TextBatches<Float>.stream(
      tokens: TrainerTests.stream(count: 500, vocabulary: 7, seed: 1), batchSize: 4, steps: 6)
    let lstm = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3)
    for n in [2, 4] {
      let after = try Self.train(ranks: n, data: stream, network: lstm, steps: 6, validate: true)
      let overlapped = try Self.train(ranks: n, data: stream, network: lstm, steps: 6, validate: true, overlap: true)
      #expect(overlapped == after, "\(n) ranks")
    }
    var configuration = TrainerTests.languageModel
    configuration.cell = .gru
    let gru = try RecurrentNetwork<Float>(configuration, seed: 4)
    let pairs = try TrainerTests.pairs()  // the last batch of a pass has one pair: rank 1 has no rows
    let after = try Self.train(ranks: 2, data: pairs, network: gru, steps: 9)
    let overlapped = try Self.train(ranks: 2, data: pairs, network: gru, steps: 9, overlap: true)
    #expect(overlapped == after)

    // One step starts the head's sum first, then each layer's from the top, then the embedding's.
    let started = try ThreadRanks.run(size: 2) { rank in
      let overlapping = ThreadRanks.OverlappingRank(rank)
      let trainer = try Trainer(network: lstm, data: stream, options: TrainerTests.options(steps: 6))
      trainer.communicator = overlapping
      try trainer.step()
      return overlapping.started
    }
    let layer = { (l: Int) in
      lstm.stack.layers[l].weightIH.count + lstm.stack.layers[l].weightHH.count + 2 * lstm.stack.layers[l].biasIH.count
    }
    let expected = [lstm.headWeight.count + lstm.headBias.count, layer(1), layer(0), lstm.embedding!.count]
    #expect(started[0] == expected && started[1] == expected)
  }

  @Test("The parameter checksum: equal weights pass, a rank with other weights is named on every rank")
  func parameterChecksum() throws {
    let data = try TrainerTests.pairs()
    let results = try ThreadRanks.run(size: 2) { communicator -> [String] in
      var messages: [String] = []
      for differ in [false, true] {
        let net = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: differ && communicator.rank == 1 ? 9 : 3)
        let trainer = try Trainer(network: net, data: data, options: TrainerTests.options(steps: 4))
        trainer.communicator = communicator
        do {
          try trainer.checkParametersAgree()
          messages.append("agree")
        } catch { messages.append(String(describing: error)) }
      }
      return messages
    }
    #expect(results[0] == results[1])
    #expect(results[0][0] == "agree")
    #expect(results[0][1].contains("the parameters of 1 of 2 ranks differ from rank 0's"))
  }

  @Test("Ranks started with different settings are refused, naming the setting")
  func differentSettings() throws {
    let results = try ThreadRanks.run(size: 2) { communicator -> String in
      do {
        try communicator.checkSameSettings([("--hidden", "32"), ("--text", communicator.rank == 0 ? "a" : "b")])
        return "accepted"
      } catch { return String(describing: error) }
    }
    #expect(results[0] == results[1])
    #expect(results[0].contains("different --text"))
  }
}

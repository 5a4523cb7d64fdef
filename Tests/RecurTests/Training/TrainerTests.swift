import Foundation
import Testing

@testable import Recur

/// A fresh temporary folder for checkpoint and metrics files.
func temporaryFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-training-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Every parameter's bits, in visiting order.
func parameterBits<N: Parameterized>(_ net: N) -> [[UInt64]] where N.Scalar == Float {
  net.namedParameters.map { $0.tensor.scalars.map { UInt64($0.bitPattern) } }
}

@Suite("Trainer")
struct TrainerTests {
  /// A random token stream over V tokens.
  static func stream(count: Int, vocabulary: Int, seed: UInt64) -> [Int32] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
  }

  static let languageModel = RecurrentNetwork<Float>.Configuration.languageModel(
    cell: .lstm, vocabularySize: 7, embeddingSize: 5, hiddenSize: 6, layers: 2, dropout: 0.25)

  static func options(steps: Int) -> TrainerOptions {
    TrainerOptions(
      optimizer: .adam(learningRate: 0.01), schedule: .cosine(warmup: 3, total: steps, minimum: 0.001),
      clipping: .globalNorm(1), loss: .crossEntropy, budget: TrainingBudget(steps: steps), checkpointInterval: 4,
      seed: 99)
  }

  /// Pairs of token sequences of lengths 1…6 for the full-BPTT source.
  static func pairs() throws -> SequencePairs<Float> {
    var rng = SeededGenerator(seed: 5)
    var x: [[Int]] = [], y: [[Int]] = []
    for i in 0..<9 {
      let n = 1 + i % 6
      x.append((0..<n).map { _ in Int(rng.next() % 7) })
      y.append((0..<n).map { _ in Int(rng.next() % 7) })
    }
    return try SequencePairs(.tokens(inputs: x, targets: y), batchSize: 4, seed: 11)
  }

  /// Trains N steps straight, and k steps + a stop + a resume from the checkpoint to N; returns both weights.
  func straightAndResumed<D: TrainingData>(data: D, steps: Int, stopAt k: Int) throws
    -> (straight: [[UInt64]], again: [[UInt64]], resumed: [[UInt64]], metricsLines: [String])
  where D.Scalar == Float {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let net = try RecurrentNetwork<Float>(Self.languageModel, seed: 3)

    let straight = try Trainer(network: net, data: data, options: Self.options(steps: steps))
    try straight.run()
    let again = try Trainer(network: net, data: data, options: Self.options(steps: steps))
    try again.run()

    let url = folder.appendingPathComponent("run.safetensors")
    let metrics = folder.appendingPathComponent("run.jsonl")
    let first = try Trainer(network: net, data: data, options: Self.options(steps: steps))
    first.checkpointURL = url
    first.metricsURL = metrics
    let stop = first.stopFlag
    first.onProgress = { progress in if progress.report.step == k { stop.requestStop() } }
    let outcome = try first.run()
    #expect(outcome.reason == .interrupted)
    #expect(outcome.step == k)
    // Keep training a little past the checkpoint without saving, as a run killed after its last checkpoint.
    try first.step()
    try first.step()

    let resumed = try Trainer(resuming: try Checkpoint<Float>(contentsOf: url), data: data)
    resumed.checkpointURL = url
    resumed.metricsURL = metrics
    #expect(try resumed.run().reason == .stepBudget)
    let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
    return (parameterBits(straight.network), parameterBits(again.network), parameterBits(resumed.network), lines)
  }

  @Test("same seed, same weights; stop at k and resume gives the weights of the run that never stopped (streams)")
  func resumeStreams() throws {
    // 61 tokens, B = 2, T = 5: 6 chunks per pass, so 14 steps cross two pass boundaries and the resume point
    // (step 8) is mid-pass with a carried state.
    let data = try TextBatches<Float>.stream(tokens: Self.stream(count: 61, vocabulary: 7, seed: 2), batchSize: 2, steps: 5)
    #expect(data.batchesPerEpoch == 6)
    let r = try straightAndResumed(data: data, steps: 14, stopAt: 8)
    #expect(r.straight == r.again)
    #expect(r.straight == r.resumed)
    #expect(r.metricsLines.count == 14)
    #expect(r.metricsLines.enumerated().allSatisfy { $1.hasPrefix("{\"step\":\($0 + 1),") })
    #expect(r.metricsLines[0].contains("\"grad_norm\":") && r.metricsLines[0].contains("\"tokens_per_s\":"))
  }

  @Test("stop at k and resume gives the weights of the run that never stopped (shuffled pairs, full BPTT)")
  func resumePairs() throws {
    let data = try Self.pairs()
    #expect(data.batchesPerEpoch == 3)
    let r = try straightAndResumed(data: data, steps: 10, stopAt: 4)
    #expect(r.straight == r.again)
    #expect(r.straight == r.resumed)
  }

  @Test("truncated BPTT carries the state: a pattern that needs the previous chunk is learned")
  func truncatedCarriesState() throws {
    // 0 0 1 1 0 0 1 1 …: the token after x_t is x_t when x_{t-1} ≠ x_t and the other token otherwise. Chunks of
    // T = 3 start at every phase, so the first prediction of each chunk needs the last token of the previous
    // chunk: a trainer that dropped the state between chunks could not get below (1/3)·ln 2 ≈ 0.231.
    let tokens = (0..<401).map { Int32(($0 / 2) % 2) }
    let data = try TextBatches<Float>.stream(tokens: tokens, batchSize: 2, steps: 3)
    let config = RecurrentNetwork<Float>.Configuration.languageModel(
      cell: .gru, vocabularySize: 2, embeddingSize: 3, hiddenSize: 8, layers: 1)
    var losses: [Double] = []
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(config, seed: 1), data: data,
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.03), clipping: .globalNorm(5), loss: .crossEntropy,
        budget: TrainingBudget(steps: 300), divergenceFactor: nil))
    trainer.onProgress = { losses.append($0.report.loss) }
    try trainer.run()
    let last = losses.suffix(30).reduce(0, +) / 30
    #expect(last < 0.1, "training loss \(last) not below (1/3)·ln 2")
    // The carried state is the last chunk's final state, as a streaming pass computes it.
    #expect(trainer.position.carriedState?.h[0].shape == [2, 8])
    #expect(try trainer.network.evaluateLanguageModel(on: tokens, streams: 2, chunkLength: 3).natsPerToken < 0.1)
  }

  @Test("a network learns a small task: loss falls by a large factor (full BPTT, variable lengths)")
  func learns() throws {
    // y_t = x_{t-1} (a one-step delay), sequences of 2…7 steps.
    var rng = SeededGenerator(seed: 4)
    var xs: [[[Float]]] = [], ys: [[[Float]]] = []
    for i in 0..<32 {
      let x = (0..<(2 + i % 6)).map { _ in [Float(rng.nextUnit() < 0.5 ? -1 : 1)] }
      xs.append(x)
      ys.append([[0]] + x.dropLast().map { [$0[0] * 0.5] })
    }
    let data = try SequencePairs(.vectors(inputs: xs, targets: ys), batchSize: 8, seed: 1)
    let net = try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 1, hiddenSize: 8, outputSize: 1, outputActivation: .tanh), seed: 2)
    var losses: [Double] = []
    let trainer = try Trainer(
      network: net, data: data,
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.02), loss: .squaredError, budget: TrainingBudget(epochs: 60),
        validationInterval: 20))
    let batches = try (0..<4).map { try SequenceBatch<Float>(inputs: Array(xs[($0 * 8)..<($0 * 8 + 8)]), targets: Array(ys[($0 * 8)..<($0 * 8 + 8)])) }
    trainer.validation = { try $0.meanLoss(over: batches, loss: .squaredError) }
    trainer.onProgress = { if let v = $0.report.validationLoss { losses.append(v) } }
    let initial = try net.meanLoss(over: batches, loss: .squaredError)
    let outcome = try trainer.run()
    #expect(outcome.reason == .epochBudget)
    #expect(outcome.step == 240)
    #expect(losses.count == 12)
    let final = try trainer.network.meanLoss(over: batches, loss: .squaredError)
    #expect(final < initial / 20, "loss \(initial) → \(final)")
  }

  @Test("early stopping after `patience` validations without a new best")
  func earlyStopping() throws {
    let data = try Self.pairs()
    var calls = 0
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(Self.languageModel), data: data,
      options: TrainerOptions(
        optimizer: .sgd(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(steps: 100),
        validationInterval: 2, earlyStoppingPatience: 3))
    // Validation losses 5, 4, 4.5, 4, 6: the best (4) comes at the second; three more without a new best stop.
    let scripted = [5.0, 4, 4.5, 4, 6, 1]
    trainer.validation = { _ in defer { calls += 1 }; return scripted[calls] }
    let outcome = try trainer.run()
    #expect(outcome.reason == .earlyStopping)
    #expect(outcome.step == 10)
    #expect(outcome.bestValidationLoss == 4)
  }

  @Test("the divergence guard stops a huge learning rate and leaves the last checkpoint byte for byte")
  func divergence() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let data = try TextBatches<Float>.stream(tokens: Self.stream(count: 301, vocabulary: 7, seed: 8), batchSize: 2, steps: 5)
    var options = Self.options(steps: 4)
    let good = try Trainer(network: try RecurrentNetwork<Float>(Self.languageModel), data: data, options: options)
    good.checkpointURL = url
    try good.run()
    let before = try Data(contentsOf: url)

    options.optimizer = .sgd(learningRate: 1e4)
    options.schedule = .constant
    options.clipping = .none
    options.budget = TrainingBudget(steps: 50)
    let wild = try Trainer(resuming: try Checkpoint<Float>(contentsOf: url), data: data, options: options)
    wild.checkpointURL = url
    #expect {
      try wild.run()
    } throws: { error in
      guard case TrainingError.diverged(let step, let reason) = error else { return false }
      return step > 4 && (reason.contains("starting loss") || reason.contains("nan") || reason.contains("inf"))
    }
    #expect(try Data(contentsOf: url) == before)

    // A NaN input gives a NaN loss: stopped before any update.
    let nanPairs = try SequencePairs<Float>(
      .vectors(inputs: [[[Float.nan]]], targets: [[[0]]]), batchSize: 1, seed: 0)
    let nanNet = try RecurrentNetwork<Float>(.init(cell: .rnn(.tanh), inputSize: 1, hiddenSize: 2, outputSize: 1))
    let nanTrainer = try Trainer(
      network: nanNet, data: nanPairs,
      options: TrainerOptions(optimizer: .sgd(learningRate: 0.1), loss: .squaredError, budget: TrainingBudget(steps: 1)))
    #expect(throws: TrainingError.diverged(step: 1, reason: "the loss is nan")) { try nanTrainer.run() }
    #expect(nanTrainer.network == nanNet)
  }

  @Test("a time budget stops the run")
  func timeBudget() throws {
    let data = try Self.pairs()
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(Self.languageModel), data: data,
      options: TrainerOptions(optimizer: .sgd(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(seconds: 0.2)))
    let start = Date()
    let outcome = try trainer.run()
    #expect(outcome.reason == .timeBudget)
    #expect(outcome.step > 0)
    #expect(Date().timeIntervalSince(start) < 5)
  }
}

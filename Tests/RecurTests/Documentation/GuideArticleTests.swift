import Foundation
import Recur
import Testing

/// The code of the guides in Sources/Recur/Recur.docc, through the public API only. File names become
/// paths in a temporary folder and sizes shrink so that the suite stays fast; the calls are the articles'.
@Suite("Documentation/Guides")
struct GuideArticleTests {
  /// A fresh temporary folder, removed by the caller.
  static func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-docs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  static let sampleText = String(repeating: "The cat sat on the mat. The dog sat on the log.\n", count: 40)

  @Test("Training a character language model: train, resume, evaluate and sample")
  func characterLanguageModel() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("input.txt")
    let valid = folder.appendingPathComponent("valid.txt")
    try Data(Self.sampleText.utf8).write(to: input)
    try Data("The dog sat on the mat.\n".utf8).write(to: valid)
    let model = folder.appendingPathComponent("model.safetensors")
    let metrics = folder.appendingPathComponent("metrics.jsonl")

    // Train (the article's code with E = 8, H = 16, B = 4, T = 16 and 30 steps).
    let corpus = try Corpus(contentsOf: input, kind: .characters)
    let (training, validation) = try corpus.split(validationFraction: 0.1)
    let network = try RecurrentNetwork<Float>(
      .languageModel(
        cell: .lstm, vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 16, layers: 2),
      seed: 1)
    let trainer = try Trainer(
      network: network,
      data: try TextBatches<Float>.stream(tokens: training, batchSize: 4, steps: 16),
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.01), clipping: .globalNorm(5), loss: .crossEntropy,
        budget: TrainingBudget(steps: 30), validationInterval: 10, earlyStoppingPatience: 5))
    trainer.validation = { try $0.evaluateLanguageModel(on: validation).natsPerToken }
    trainer.metadata = corpus.vocabulary.metadata
    trainer.checkpointURL = model
    trainer.metricsURL = metrics
    let outcome = try trainer.run()
    #expect(outcome.reason == .stepBudget && outcome.step == 30)
    let best = try #require(outcome.bestValidationLoss)
    #expect(best < Foundation.log(Double(corpus.vocabulary.count)))
    #expect(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").count == 30)

    // Resume.
    let saved = try Checkpoint<Float>(contentsOf: model)
    let resumed = try Trainer(
      resuming: saved, data: try TextBatches<Float>.stream(tokens: training, batchSize: 4, steps: 16),
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.01), clipping: .globalNorm(5), loss: .crossEntropy,
        budget: TrainingBudget(steps: 35), validationInterval: 10, earlyStoppingPatience: 5))
    resumed.checkpointURL = model
    #expect(try resumed.run().step == 35)

    // Evaluate and sample.
    let checkpoint = try Checkpoint<Float>(contentsOf: model)
    let vocabulary = try Vocabulary(metadata: checkpoint.metadata)
    #expect(vocabulary == corpus.vocabulary)
    let heldOut = try Corpus(contentsOf: valid, vocabulary: vocabulary)
    let evaluation = try checkpoint.network.evaluateLanguageModel(on: heldOut.tokens)
    #expect(evaluation.predictions == heldOut.count - 1)
    #expect(abs(evaluation.bitsPerToken - evaluation.natsPerToken / Foundation.log(2)) < 1e-12)

    // Dynamic evaluation (the checkpoint holds Adam's state, so the RMS rule).
    let statistics = GradientStatistics(checkpoint: checkpoint)
    #expect(statistics != nil)
    let adapted = try checkpoint.network.dynamicallyEvaluateLanguageModel(
      on: heldOut.tokens, settings: .defaults(for: statistics != nil ? .rms : .sgd), statistics: statistics)
    #expect(adapted.predictions == evaluation.predictions && adapted.natsPerToken.isFinite)
    // valid.txt is 23 predictions, under one segment of 64: all of it is predicted by the trained weights.
    #expect(abs(adapted.natsPerToken - evaluation.natsPerToken) < 1e-6)

    let sampler = try TextSampler(network: checkpoint.network)
    var random = SeededGenerator(seed: 42)
    var written: [UInt8] = []
    let drawn = try sampler.generateText(
      vocabulary: vocabulary, mode: .stream, prime: "The ", length: 30,
      options: SamplingOptions(temperature: 0.8), using: &random
    ) { bytes in written += bytes }
    #expect(drawn.count == 30)
    #expect(String(decoding: written, as: UTF8.self) == "The " + vocabulary.decode(drawn))
  }

  /// The article's data: noisy readings of a machine that switches between idle (0) and running (1).
  static func sensorPairs(count: Int, steps: Int, seed: UInt64) -> (inputs: [[[Float]]], targets: [[[Float]]]) {
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

  @Test("Your own sequences: train on pairs, stream step by step and in blocks, save and load")
  func ownSequences() throws {
    let (inputs, targets) = Self.sensorPairs(count: 64, steps: 30, seed: 1)
    let network = try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 1, hiddenSize: 8, outputSize: 1, outputActivation: .sigmoid), seed: 0)
    let trainer = try Trainer(
      network: network,
      data: try SequencePairs<Float>(.vectors(inputs: inputs, targets: targets), batchSize: 16, seed: 2),
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.02), loss: .binaryCrossEntropy, budget: TrainingBudget(steps: 150)))
    try trainer.run()
    let classifier = trainer.network

    // Trained: held-out accuracy per step beats thresholding each reading alone.
    let (testX, testY) = Self.sensorPairs(count: 20, steps: 30, seed: 9)
    var right = 0, naive = 0, total = 0
    for (x, y) in zip(testX, testY) {
      for (g, (xt, yt)) in zip(classifier.transduce(x.map { .vector($0) }), zip(x, y)) {
        right += (g[0] > 0.5) == (yt[0] > 0.5) ? 1 : 0
        naive += (xt[0] > 0.5) == (yt[0] > 0.5) ? 1 : 0
        total += 1
      }
    }
    #expect(Double(right) / Double(total) > 0.85, "accuracy \(right)/\(total)")
    #expect(right > naive, "network \(right) vs one reading \(naive) of \(total)")

    // Stream one reading at a time.
    var stepped: [Float] = []
    var state = classifier.initialState
    for reading: Float in [0.1, -0.3, 1.2, 0.9, 1.4] {
      let (next, output) = classifier.step(state, [reading])
      state = next
      stepped.append(output[0])
    }

    // Stream in blocks with a reused workspace: the same outputs.
    var blocked: [Float] = []
    let workspace = NetworkWorkspace<Float>()
    var carried = classifier.zeroState(batch: 1)
    for block: [Float] in [[0.1, -0.3, 1.2], [0.9, 1.4]] {
      let batch = try SequenceBatch<Float>(
        inputs: [block.map { [$0] }], targets: [block.map { _ in [0] }])
      let (outputs, finalState) = try classifier.outputs(
        for: batch, initialState: carried, workspace: workspace)
      carried = finalState
      blocked += outputs.scalars
    }
    #expect(zip(stepped, blocked).allSatisfy { abs($0 - $1) < 1e-5 }, "\(stepped) vs \(blocked)")

    // Save and load.
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("sensor.safetensors")
    try Checkpoint(network: classifier).write(to: url)
    let reloaded = try Checkpoint<Float>(contentsOf: url).network
    #expect(reloaded == classifier)
  }

  @Test("Your own sequences: the file formats of recur fit and recur predict")
  func sequenceFiles() throws {
    let text = """
      {"x": [0.9, -0.2, 1.1], "y": [1, 1, -1]}
      {"x": [0.1, 0.8], "y": [-1, 1]}
      """
    let dataset = try SequenceDataset.parse(text, format: .jsonLines)
    #expect(dataset.kind == .binary)
    let batch = try dataset.batch([0, 1])
    #expect(batch.batchSize == 2 && batch.lengths == [3, 2])

    // The article's three JSON Lines kinds, one file each, and its CSV example.
    let values = try SequenceDataset.parse(#"{"x": [[0.1, 2], [0.3, 1]], "y": [[1.0], [0.5]]}"#, format: .jsonLines)
    #expect(values.kind == .values)
    let classes = try SequenceDataset.parse(#"{"x": [0.2, 0.4, 0.9], "y": [2, 0, 1]}"#, format: .jsonLines)
    #expect(classes.kind == .classes)
    let signs = try SequenceDataset.parse(#"{"x": [1, 0, 1], "y": [1, -1, -1]}"#, format: .jsonLines)
    #expect(signs.kind == .binary)
    let csv = try SequenceDataset.parse(
      "sequence,step,x1,label\na,1,0.9,1\na,2,-0.2,1\nb,1,0.1,-1\n", format: .csv)
    #expect(csv.kind == .binary)
    #expect(try csv.batch([0, 1]).lengths == [2, 1])
  }

  @Test("Working with PyTorch: load a PyTorch model, evaluate, generate, and write one back")
  func pyTorch() throws {
    let model = try #require(
      Bundle.module.url(forResource: "torch_lm_lstm_L2", withExtension: "safetensors", subdirectory: "Fixtures"))
    let input = try #require(
      Bundle.module.url(forResource: "interop_text", withExtension: "txt", subdirectory: "Fixtures"))

    let checkpoint = try Checkpoint<Float>(contentsOf: model)
    let vocabulary = try Vocabulary(metadata: checkpoint.metadata)
    let text = try Corpus(contentsOf: input, vocabulary: vocabulary)
    let loss = try checkpoint.network.evaluateLanguageModel(on: text.tokens).natsPerToken
    #expect(loss.isFinite && loss > 0)

    let sampler = try TextSampler(network: checkpoint.network)
    var random = SeededGenerator(seed: 7)
    let drawn = try sampler.generateText(
      vocabulary: vocabulary, mode: .stream, prime: "the", length: 100, using: &random)
    #expect(drawn.count == 100)

    // From Recur to PyTorch: the written file is a recur-lm-1 model with its vocabulary.
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let network = checkpoint.network
    let out = folder.appendingPathComponent("model.safetensors")
    try Checkpoint(network: network, metadata: vocabulary.metadata).write(to: out)
    let file = try SafeTensorsFile(contentsOf: out)
    #expect(file.metadata["format"] == "recur-lm-1")
    #expect(file.metadata["vocabulary.tokens"] == vocabulary.metadata["vocabulary.tokens"])
    #expect(try Checkpoint<Float>(contentsOf: out).network == network)
  }
}

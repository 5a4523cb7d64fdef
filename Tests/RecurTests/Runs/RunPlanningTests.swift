import Foundation
import Testing

import Recur

/// Planning a run, as the `recur` commands do it through the library's public API: the memory estimate, the
/// schedule fitted to a budget, the defaults, the language-model checkpoint contract, the metrics file,
/// dropout on a trained network, and accuracy on a sequence file.
@Suite("Runs/planning a run")
struct RunPlanningTests {
  static let lm = RecurrentNetwork<Float>.Configuration.languageModel(
    cell: .lstm, vocabularySize: 65, embeddingSize: 64, hiddenSize: 512, layers: 2)

  @Test("the memory estimate grows with the model, the batch and the steps, and refuses what cannot fit")
  func memoryEstimate() throws {
    let base = Self.lm.trainingMemory(batch: 32, steps: 128)
    // 3.3 M parameters × 4 copies × 4 bytes ≈ 53 MB, plus caches of 4 096 rows of each layer.
    #expect(base > 53e6 && base < 1e9)
    #expect(Self.lm.trainingMemory(batch: 64, steps: 128) > base)
    #expect(Self.lm.trainingMemory(batch: 32, steps: 256) > base)
    var bigger = Self.lm
    bigger.hiddenSize = 1024
    #expect(bigger.trainingMemory(batch: 32, steps: 128) > base)
    // Doubles take twice the bytes of floats.
    let double = RecurrentNetwork<Double>.Configuration.languageModel(
      cell: .lstm, vocabularySize: 65, embeddingSize: 64, hiddenSize: 512, layers: 2)
    expectClose(double.trainingMemory(batch: 32, steps: 128), 2 * base, relativeTolerance: 1e-12)
    try Self.lm.checkTrainingMemory(batch: 32, steps: 128, physicalMemory: 24e9)
    #expect(throws: TrainingMemoryError.self) { try Self.lm.checkTrainingMemory(batch: 32, steps: 128, physicalMemory: base) }
    do {
      try Self.lm.checkTrainingMemory(batch: 32, steps: 128, physicalMemory: 1e8)
    } catch let error as TrainingMemoryError {
      #expect(error.neededBytes == base && error.physicalBytes == 1e8)
      #expect(error.description.contains("GB of memory, more than this machine's 0.1 GB allows"))
    }
    // Shapes beyond any machine do not overflow.
    var absurd = Self.lm
    absurd.hiddenSize = NetworkLimits.hiddenSize
    #expect(absurd.trainingMemory(batch: 1_000_000_000, steps: 1_000_000) == .infinity)
  }

  @Test("the size limits are the library's own")
  func limits() throws {
    var c = Self.lm
    c.hiddenSize = NetworkLimits.hiddenSize
    try c.validate()
    c.hiddenSize += 1
    #expect(throws: ModelError.self) { try c.validate() }
    c = Self.lm
    c.layers = NetworkLimits.layers + 1
    #expect(throws: ModelError.self) { try c.validate() }
  }

  @Test("schedules by name; a cosine fitted to the steps a time budget allows")
  func schedules() {
    let cosine = ScheduleChoice.cosine.schedule(learningRate: 3e-3, warmup: 100, plannedSteps: 4900, stepsPerEpoch: 490)
    #expect(cosine == .cosine(warmup: 100, total: 4900, minimum: 3e-3 / 10))
    // No planned length (a time budget): the warm-up only, until fitted.
    #expect(ScheduleChoice.cosine.schedule(learningRate: 1, warmup: 100, plannedSteps: nil, stepsPerEpoch: 9)
      == .cosine(warmup: 100, total: 100, minimum: 0.1))
    #expect(cosine.fitted(toSteps: 3687) == .cosine(warmup: 100, total: 3687, minimum: 3e-3 / 10))
    #expect(cosine.fitted(toSteps: 40) == .cosine(warmup: 40, total: 40, minimum: 3e-3 / 10))
    #expect(LearningRateSchedule.constant.fitted(toSteps: 40) == .constant)
    #expect(ScheduleChoice.step.schedule(learningRate: 1, warmup: 0, plannedSteps: nil, stepsPerEpoch: 490)
      == .stepDecay(factor: 0.97, every: 490, start: 4900))
    #expect(ScheduleChoice.constant.schedule(learningRate: 1, warmup: 0, plannedSteps: 5, stepsPerEpoch: 1) == .constant)
  }

  @Test("steps in a time budget: seconds over the step time plus each validation's share")
  func stepsInTime() {
    let timing = StepTiming(secondsPerStep: 0.25, validationSeconds: 10)
    // 900 s / (0.25 + 10/250) = 900 / 0.29 = 3103.4
    #expect(timing.steps(in: 900, validationInterval: 250) == 3103)
    #expect(StepTiming(secondsPerStep: 0.25).steps(in: 900, validationInterval: 250) == 3600)
    #expect(StepTiming(secondsPerStep: 5).steps(in: 1, validationInterval: 1) == 1)
    #expect(StepTiming.forwardOnlySeconds(batches: 6, secondsPerStep: 0.5) == 1)
  }

  @Test("the step time is measured on copies: the network and the data are left as they were")
  func measureStepTime() throws {
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .gru, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 1), seed: 1)
    let tokens = (0..<200).map { Int32($0 % 5) }
    let data = try TextBatches<Float>.stream(tokens: tokens, batchSize: 2, steps: 8)
    let options = TrainerOptions(optimizer: .adam(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(steps: 100))
    let seconds = try StepTiming.measureSecondsPerStep(network: network, data: data, options: options)
    #expect(seconds > 0 && seconds.isFinite)
    #expect(data.position.batchIndex == 0)
  }

  @Test("defaults written once: the language model's and the sequence models'")
  func defaults() {
    let lm = RunDefaults.languageModel, seq = RunDefaults.sequenceModel
    #expect(lm.hiddenSize == 512 && lm.layers == 2 && lm.embeddingSize == 64 && lm.dropout == 0)
    #expect(lm.regularization == Regularization(inputDropout: 0.1, hiddenDropout: 0.1, outputDropout: 0.1, weightDrop: 0.2))
    #expect(!seq.regularization.isActive && seq.dropout == 0)
    #expect(lm.learningRate(for: .adam) == 3e-3 && lm.learningRate(for: .sgd) == 0.1 && lm.clip == 5)
    #expect(seq.hiddenSize == 32 && seq.layers == 1 && seq.learningRate(for: .adam) == 0.01 && seq.clip == 1)
    #expect(OptimizerChoice.rmsprop.optimizer(learningRate: 2e-3) == .rmsprop(learningRate: 2e-3, alpha: 0.95))
    #expect(OptimizerChoice.adamw.optimizer(learningRate: 1e-3) == .adamW(learningRate: 1e-3))
  }

  @Test("a language-model checkpoint: written with its metadata, read back checked; vector models refused")
  func languageModelCheckpoint() throws {
    let vocabulary = try Vocabulary(kind: .characters, text: Array("ab\nc".utf8))
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .lstm, vocabularySize: vocabulary.count, embeddingSize: 3, hiddenSize: 4, layers: 1))
    let metadata = LanguageModelCheckpoint.metadata(
      vocabulary: vocabulary, mode: .lines, batchSize: 3, sequenceLength: 24, validationFraction: 0.1)
    #expect(metadata[LanguageModelCheckpoint.Key.mode] == "lines" && metadata["text.seq_len"] == "24")
    let model = try LanguageModelCheckpoint(Checkpoint(network: network, metadata: metadata))
    #expect(model.mode == .lines && model.vocabulary.count == vocabulary.count)
    #expect(model.batchSize == 3 && model.sequenceLength == 24 && !model.isResumable)
    #expect(model.summary == "1-layer lstm, H = 4, E = 3, V = \(vocabulary.count) (characters), lines mode")
    // A weights-only checkpoint (no text.mode) is a stream model.
    let bare = try LanguageModelCheckpoint(Checkpoint(network: network, metadata: vocabulary.metadata))
    #expect(bare.mode == .stream && bare.batchSize == nil)
    let vector = try RecurrentNetwork<Float>(.init(cell: .gru, inputSize: 2, hiddenSize: 3, outputSize: 1))
    #expect(throws: LanguageModelCheckpointError.notALanguageModel) {
      try LanguageModelCheckpoint(Checkpoint(network: vector, metadata: vocabulary.metadata))
    }
    var odd = metadata
    odd[LanguageModelCheckpoint.Key.mode] = "paragraphs"
    #expect(throws: LanguageModelCheckpointError.unknownMode("paragraphs")) {
      try LanguageModelCheckpoint(Checkpoint(network: network, metadata: odd))
    }
    let files = RunFiles(checkpoint: URL(fileURLWithPath: "/tmp/runs/shakespeare.safetensors"))
    #expect(files.metrics.path == "/tmp/runs/shakespeare.metrics.jsonl" && files.lossPlot.path == "/tmp/runs/shakespeare.loss.svg")
  }

  @Test("a text as language-model data: the last 10% validates, streams or pairs, too short refused")
  func languageModelData() throws {
    let text = String(repeating: "the cat sat on the mat.\nla séance est levée;\n", count: 55)
    let vocabulary = try Vocabulary(kind: .characters, text: Array(text.utf8))
    let tokens = try vocabulary.encode(text)
    let split = LanguageModelData.split(tokens, validationFraction: 0.1)
    #expect(split.heldOut.count == tokens.count / 10 && split.training + split.heldOut == tokens)

    let stream = try LanguageModelData(
      tokens: tokens, vocabulary: vocabulary, mode: .stream, batchSize: 3, sequenceLength: 10, seed: 1)
    #expect(stream.training.batchesPerEpoch == (split.training.count - 1) / 3 / 10)
    guard case .stream(let held, let streams) = stream.validation else { Issue.record("no stream validation"); return }
    #expect(Array(held) == split.heldOut && streams == 3)
    #expect(stream.validationBatches == Double(split.heldOut.count) / 30)
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .gru, vocabularySize: vocabulary.count, embeddingSize: 3, hiddenSize: 4, layers: 1), seed: 1)
    #expect(try stream.validationLoss(network)
      == network.evaluateLanguageModel(on: split.heldOut, streams: 3, chunkLength: 128).natsPerToken)

    #expect(throws: LanguageModelDataError.textTooShort(characters: split.training.count, batchSize: 100, steps: 64, trainingPercent: 90)) {
      try LanguageModelData(tokens: tokens, vocabulary: vocabulary, mode: .stream, batchSize: 100, sequenceLength: 64, seed: 1)
    }
    #expect(LanguageModelDataError.textTooShort(characters: 9, batchSize: 2, steps: 8, trainingPercent: 90).description
      == "the text is too short: the training part (first 90%) has 9 characters, 2 streams × 8 steps need 17")

    // Lines: T defaults to the longest line (23 characters) + 1; validation is the held-out lines' mean loss.
    #expect(try LanguageModelData.longestPair(tokens: tokens, vocabulary: vocabulary, mode: .lines) == 24)
    #expect(try LanguageModelData.longestPair(tokens: tokens, vocabulary: vocabulary, mode: .stream) == nil)
    let lines = try LanguageModelData(
      tokens: tokens, vocabulary: vocabulary, mode: .lines, batchSize: 4, sequenceLength: 24, seed: 2)
    guard case .sequences(let batches) = lines.validation else { Issue.record("no pair validation"); return }
    #expect(lines.validationBatches == Double(batches.count))
    #expect(try lines.validationLoss(network) == network.meanLoss(over: batches, loss: .crossEntropy))
  }

  @Test("metrics: the trainer's file read back, a line cut short skipped, null losses kept as nil")
  func metrics() throws {
    let text = """
      {"step":1,"epoch":0,"time":0.5,"loss":4.25,"lr":0.001,"grad_norm":2.5,"tokens_per_s":1000.0}
      {"step":2,"epoch":0,"time":1.0,"loss":null,"val_loss":3.5,"lr":0.002,"grad_norm":null,"tokens_per_s":900.0}
      {"step":3,"epo
      """
    let records = MetricsRecord.records(in: text)
    #expect(records.count == 2)
    #expect(records[0] == MetricsRecord(
      step: 1, epoch: 0, time: 0.5, loss: 4.25, validationLoss: nil, learningRate: 0.001, gradientNorm: 2.5,
      tokensPerSecond: 1000))
    #expect(records[1].loss == nil && records[1].validationLoss == 3.5)
    let plot = LinePlot.trainingCurves(records)
    #expect(plot.series.map(\.name) == ["training (mean of 1 step)", "validation"])
    #expect(plot.series[0].y == [4.25] && plot.series[1].x == [2] && plot.series[1].y == [3.5])
  }

  @Test("the trainer's metrics file reads back step by step")
  func metricsFromTrainer() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-metrics-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .rnn(.tanh), vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 1), seed: 1)
    let tokens = (0..<200).map { Int32($0 % 5) }
    let data = try TextBatches<Float>.stream(tokens: tokens, batchSize: 2, steps: 8)
    let trainer = try Trainer(
      network: network, data: data,
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(steps: 6),
        validationInterval: 3))
    trainer.validation = { _ in 1.5 }
    let files = RunFiles(checkpoint: folder.appendingPathComponent("m.safetensors"))
    trainer.metricsURL = files.metrics
    var losses: [Double] = []
    trainer.onProgress = { losses.append($0.report.loss) }
    _ = try trainer.run()
    let records = try MetricsRecord.read(contentsOf: files.metrics)
    #expect(records.map(\.step) == Array(1...6))
    #expect(records.map(\.loss) == losses.map { Optional($0) })
    #expect(records.compactMap(\.validationLoss) == [1.5, 1.5])
  }

  @Test("withDropout keeps every weight and changes only the dropout")
  func withDropout() throws {
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .gru, vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2, dropout: 0.1), seed: 3)
    let copy = try network.withDropout(0.3)
    #expect(copy.configuration.dropout == 0.3)
    var expected = network.configuration
    expected.dropout = 0.3
    #expect(copy.configuration == expected)
    #expect(copy.namedParameters.map(\.name) == network.namedParameters.map(\.name))
    #expect(copy.namedParameters.map(\.tensor) == network.namedParameters.map(\.tensor))
    #expect(throws: ModelError.self) { try network.withDropout(1) }
  }

  @Test("a sequence file: the validation split and per-step accuracy of a network")
  func sequenceFileAccuracy() throws {
    let lines = (0..<12).map { i in #"{"x": [[\#(i % 2)], [1]], "y": [\#(i % 3), 1]}"# }.joined(separator: "\n")
    let dataset = try SequenceDataset.parse(lines, format: .jsonLines)
    #expect(dataset.kind == .classes)
    let split = dataset.validationSplit(fraction: 0.25)
    #expect(split.training == Array(0..<9) && split.validation == [9, 10, 11])
    let few = try SequenceDataset.parse(#"{"x": [1], "y": [0]}"#, format: .jsonLines, kind: .classes)
    #expect(few.validationSplit(fraction: 0.5).validation.isEmpty)
    #expect(dataset.stepLabels([0, 1]) == [0, 1, 1, 1])
    let network = try RecurrentNetwork<Float>(dataset.networkConfiguration(cell: .gru, hiddenSize: 4), seed: 2)
    let predicted = try #require(try network.predictedStepLabels(dataset, split.validation))
    #expect(predicted.count == 6)
    // Each label is the arg-max of the network's own outputs for that sequence.
    for (k, i) in split.validation.enumerated() {
      let g = try network.outputs(for: try dataset.batch([i])).outputs.scalars
      for t in 0..<2 {
        let row = Array(g[(t * 3)..<(t * 3 + 3)])
        #expect(predicted[2 * k + t] == row.indices.max { row[$0] < row[$1] })
      }
    }
    let labels = try #require(dataset.stepLabels(split.validation))
    let right = zip(predicted, labels).filter { $0 == $1 }.count
    #expect(ClassificationMetrics.accuracy(predicted: predicted, actual: labels) == Double(right) / 6)
  }
}

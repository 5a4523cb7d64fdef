import Foundation
import Testing

@testable import Recur

/// `recur train`, `recur sample` and `recur eval` on small texts: checked input, exact resumption, the
/// checkpoint's text metadata, and the files written beside the checkpoint.
@Suite("Language-model commands")
struct LanguageModelCommandTests {
  /// A folder that is removed when the value is released.
  final class Folder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-lm-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
      try Data(bytes).write(to: url.appendingPathComponent(name))
      return path(name)
    }
  }

  /// A text with some structure, repeated: 2 400 characters over a dozen symbols.
  static let text = Array(String(repeating: "the cat sat on the mat.\nla séance est levée;\n", count: 55).utf8)

  static let small = ["--hidden", "8", "--embedding", "4", "--layers", "2", "--batch-size", "3", "--seq-len", "10", "--quiet"]

  /// Runs `recur train arguments…` (the built executable) and requires it to succeed.
  static func train(_ arguments: [String]) throws {
    let result = try RecurProcess.run(["train"] + arguments, in: FileManager.default.temporaryDirectory)
    try #require(result.status == 0, "recur train \(arguments.joined(separator: " ")): \(result.standardError)")
  }

  /// The error line `recur train` gives for these arguments, without "Error: " (nil when they are accepted).
  static func trainError(_ arguments: [String], in folder: Folder) throws -> String? {
    let result = try RecurProcess.run(["train"] + arguments, in: folder.url)
    if result.status == 0 { return nil }
    #expect(result.errorLines.count == 1, "\(arguments): \(result.standardError)")
    return result.errorLines.last.map { String($0.dropFirst("Error: ".count)) }
  }

  @Test("train: stopped at step k and resumed, the weights equal the run that never stopped (stream mode, dropout)")
  func resume() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", Self.text)
    let common = ["--text", text, "--dropout", "0.1", "--validate-every", "4"] + Self.small
    try Self.train(common + ["--steps", "10", "--checkpoint", folder.path("straight.safetensors")])
    try Self.train(common + ["--steps", "6", "--checkpoint", folder.path("stopped.safetensors")])
    try Self.train(["--text", text, "--resume", folder.path("stopped.safetensors"), "--steps", "10", "--quiet",
      "--checkpoint", folder.path("stopped.safetensors")])
    let straight = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("straight.safetensors")))
    let resumed = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("stopped.safetensors")))
    #expect(resumed.position?.step == 10)
    #expect(straight.network == resumed.network)
    #expect(straight.optimizerState == resumed.optimizerState)
    #expect(straight.position?.carriedState == resumed.position?.carriedState)
    #expect(straight.position?.carriedState != nil)
    // Metadata: vocabulary, mode and data shape; metrics and plot beside the checkpoint.
    #expect(straight.metadata["text.mode"] == "stream")
    #expect(straight.metadata["text.batch_size"] == "3" && straight.metadata["text.seq_len"] == "10")
    #expect(try Vocabulary(metadata: straight.metadata).count == Set(String(decoding: Self.text, as: UTF8.self).unicodeScalars).count + 2)
    let metrics = try String(contentsOfFile: folder.path("straight.metrics.jsonl"), encoding: .utf8)
    #expect(metrics.split(separator: "\n").count == 10)
    #expect(metrics.contains("\"val_loss\":"))
    let svg = try String(contentsOfFile: folder.path("straight.loss.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
    #expect(svg.contains("validation"))
  }

  @Test("train in lines mode records the mode; sample stops at <end>; eval gives the one-stream figure")
  func linesModeSampleEval() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", Self.text)
    let model = folder.path("lines.safetensors")
    try Self.train(["--text", text, "--mode", "lines", "--steps", "40", "--lr", "0.03", "--checkpoint", model] + Self.small.filter { $0 != "10" && $0 != "--seq-len" })
    let file = try LanguageModelCheckpoint(contentsOf: URL(fileURLWithPath: model))
    #expect(file.mode == .lines)
    #expect(file.checkpoint.metadata["text.seq_len"] == "24")  // the longest line (23 characters) + 1
    // Sampling a lines model ends at <end>: fewer than 1000 characters, and never a line break inside.
    let sampler = try TextSampler(network: file.checkpoint.network)
    var rng = SeededGenerator(seed: 5)
    var bytes: [UInt8] = []
    let drawn = try sampler.generateText(
      vocabulary: file.vocabulary, mode: file.mode, length: 1000, options: SamplingOptions(temperature: 0.5),
      using: &rng) { bytes += $0 }
    #expect(drawn.count < 1000)
    let newline = try #require(file.vocabulary.newlineToken, "the vocabulary has a line break to avoid")
    #expect(!drawn.contains(Int(newline)), "a line break was drawn inside the line")
    #expect(!bytes.contains(UInt8(ascii: "\n")), "the written line contains a line break")
    #expect(!bytes.isEmpty)
    // eval's figure is the library's one-stream definition on the same tokens.
    let tokens = try file.vocabulary.encode(utf8: Self.text)
    #expect(try file.evaluationTokens(utf8: Self.text) == tokens)
    #expect(try file.evaluationTokens(utf8: Self.text, lastFraction: 0.1) == Array(tokens.suffix(tokens.count / 10)))
    let figure = try file.checkpoint.network.evaluateLanguageModel(on: tokens)
    #expect(figure.predictions == tokens.count - 1 && figure.natsPerToken.isFinite)
  }

  @Test("eval --dynamic: the library's figure with the checkpoint's Adam statistics; rule, JSON and bad input")
  func dynamicEval() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", Self.text)
    let model = folder.path("lm.safetensors")
    try Self.train(["--text", text, "--steps", "30", "--checkpoint", model] + Self.small)
    func eval(_ arguments: [String]) throws -> RecurProcess.Result {
      try RecurProcess.run(["eval", "--checkpoint", model, "--text", text, "--last", "0.2"] + arguments, in: folder.url)
    }
    let file = try LanguageModelCheckpoint(contentsOf: URL(fileURLWithPath: model))
    let tokens = try file.evaluationTokens(utf8: Self.text, lastFraction: 0.2)
    // The rms rule by default (the run used Adam), at the library's defaults.
    let plain = try eval(["--dynamic"])
    try #require(plain.status == 0, "\(plain.standardError)")
    let statistics = try #require(GradientStatistics(checkpoint: file.checkpoint))
    let expected = try file.network.dynamicallyEvaluateLanguageModel(
      on: tokens, settings: .defaults(for: .rms), statistics: statistics)
    #expect(plain.standardOutput.contains(String(format: "%.4f nats/char", expected.natsPerToken)), "\(plain.standardOutput)")
    #expect(plain.standardOutput.contains("dynamic: rms rule, n = 64, η = 0.0007, λ = 0.001"), "\(plain.standardOutput)")
    // Each setting implies --dynamic; the JSON names the settings.
    let json = try eval(["--dynamic-rule", "sgd", "--dynamic-lr", "0.2", "--dynamic-segment", "16", "--json"])
    try #require(json.status == 0, "\(json.standardError)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    let dynamic = try #require(object["dynamic"] as? [String: Any])
    #expect(dynamic["rule"] as? String == "sgd" && dynamic["segment_length"] as? Int == 16)
    let sgd = try file.network.dynamicallyEvaluateLanguageModel(
      on: tokens, settings: DynamicEvaluation(rule: .sgd, segmentLength: 16, learningRate: 0.2, decay: DynamicEvaluation.defaults(for: .sgd).decay))
    expectClose(try #require(object["nats_per_char"] as? Double), sgd.natsPerToken, relativeTolerance: 1e-12)
    // Bad input: one line each, non-zero exit.
    let weightsOnly = folder.path("weights.safetensors")
    try Checkpoint(network: file.checkpoint.network, metadata: file.checkpoint.metadata).write(to: URL(fileURLWithPath: weightsOnly))
    let cases: [([String], String)] = [
      (["--dynamic", "--streams", "2"], "--dynamic reads the text as one stream"),
      (["--dynamic-decay", "2"], "the decay must be in [0, 1], got 2.0"),
      (["--dynamic-segment", "0"], "the segment length must be at least 1, got 0"),
    ]
    for (arguments, message) in cases {
      let result = try eval(arguments)
      #expect(result.status != 0 && result.errorLines.count == 1, "\(arguments): \(result.standardError)")
      #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
    }
    let noStatistics = try RecurProcess.run(
      ["eval", "--checkpoint", weightsOnly, "--text", text, "--dynamic-rule", "rms"], in: folder.url)
    #expect(noStatistics.status != 0 && noStatistics.errorLines.count == 1)
    #expect(noStatistics.standardError.contains("this checkpoint lacks (no Adam or RMSprop state); use --dynamic-rule sgd"))
    let fallback = try RecurProcess.run(["eval", "--checkpoint", weightsOnly, "--text", text, "--dynamic"], in: folder.url)
    #expect(fallback.status == 0 && fallback.standardOutput.contains("dynamic: sgd rule"), "\(fallback.standardError)")
  }

  @Test("train refuses bad input up front with a one-line message")
  func inputErrors() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", Self.text)
    let empty = try folder.write("empty.txt", [])
    let invalid = try folder.write("bad.txt", [0x61, 0xC3, 0x28, 0x62] + Self.text)
    let short = try folder.write("short.txt", Array("abcdefgh".utf8))
    let other = try folder.write("other.txt", Array("日本語のテキスト".utf8))
    let lstm = folder.path("lstm.safetensors")
    try Self.train(["--text", text, "--steps", "1", "--checkpoint", lstm] + Self.small)
    let cases: [([String], String)] = [
      (["--text", folder.path("missing.txt")], "no such file"),
      (["--text", folder.url.path], "is a directory"),
      (["--text", empty], "is empty"),
      (["--text", invalid], "not valid UTF-8 at byte offset 1"),
      (["--text", short], "too short"),
      (["--text", text, "--hidden", "0"], "--hidden must be at least 1"),
      (["--text", text, "--hidden=-5"], "--hidden must be at least 1"),
      (["--text", text, "--hidden", "1000000"], "absurdly large"),
      (["--text", text, "--lr", "nan"], "--learning-rate must be positive"),
      (["--text", text, "--model", "transformer"], "The value 'transformer' is invalid for '--model"),
      (["--text", text, "--cell", "transformer"], "The value 'transformer' is invalid for '--cell"),
      (["--text", other, "--init", lstm], "is not in the vocabulary"),
      (["--text", text, "--init", lstm, "--model", "gru", "--batch-size", "3"], "has cell lstm but --cell says gru"),
      (["--text", text, "--init", lstm, "--hidden", "16", "--batch-size", "3"], "hidden 8 but --hidden says 16"),
      (["--text", text, "--resume", lstm, "--seq-len", "11"], "--seq-len 11 differs"),
      (["--text", text, "--hidden", "16384", "--layers", "64", "--batch-size", "100000", "--seq-len", "1"],
       "memory"),
    ]
    for (arguments, expected) in cases {
      let message = try Self.trainError(arguments + ["--steps", "1", "--checkpoint", folder.path("x.safetensors")], in: folder)
      #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "accepted")")
      #expect(message?.contains("\n") == false)
    }
    #expect(
      try Self.trainError(
        ["--text", text, "--init", lstm, "--steps", "1", "--batch-size", "3", "--seq-len", "10", "--quiet",
         "--checkpoint", folder.path("init.safetensors")], in: folder) == nil)
  }
}

@Suite("Text batches for the trainer")
struct TextBatchesTests {
  @Test("B parallel evaluation streams give the mean of each stream evaluated alone")
  func parallelStreams() throws {
    let config = RecurrentNetwork<Float>.Configuration.languageModel(
      cell: .gru, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 2)
    let net = try RecurrentNetwork<Float>(config, seed: 3)
    var rng = SeededGenerator(seed: 9)
    let tokens = (0..<103).map { _ in Int32(rng.next() % 5) }
    let B = 4, L = (tokens.count - 1) / B
    let together = try net.evaluateLanguageModel(on: tokens, streams: B, chunkLength: 7)
    var sum = 0.0
    for b in 0..<B {
      let alone = try net.evaluateLanguageModel(on: Array(tokens[(b * L)...(b * L + L)]), chunkLength: 5)
      sum += alone.natsPerToken * Double(alone.predictions)
    }
    #expect(together.predictions == B * L)
    expectClose(together.natsPerToken, sum / Double(B * L), relativeTolerance: 1e-5)
  }

  @Test("lines as training data: positions restore exactly, every pair starts from the zero state")
  func linesRestore() throws {
    let vocabulary = try Vocabulary(kind: .characters, text: Array("ab\nc\n".utf8))
    let text = (0..<30).map { i in String(repeating: "ab", count: 1 + i % 4) + (i % 3 == 0 ? "c" : "") }
      .joined(separator: "\n")
    let tokens = try vocabulary.encode(text)
    let sequences = try SequenceBatches(
      tokens: tokens, vocabulary: vocabulary, segmentation: .lines, batchSize: 4, maxSteps: 20, seed: 2)
    var data = TextBatches<Float>(.sequences(sequences))
    #expect(data.mode == .lines && data.batchesPerEpoch == 8)
    var seen: [TrainingBatch<Float>] = []
    var saved: DataPosition?
    for k in 0..<12 {
      if k == 5 { saved = data.position }
      seen.append(try data.nextBatch())
    }
    #expect(seen.allSatisfy { !$0.continuesPrevious })
    #expect(data.position.epoch == 1 && data.position.batchIndex == 4)
    var again = TextBatches<Float>(.sequences(sequences))
    try again.restore(try #require(saved))
    for k in 5..<12 { #expect(try again.nextBatch().batch == seen[k].batch) }
  }
}

import ArgumentParser
import Foundation
import Recur

/// `recur eval --checkpoint C --text FILE`: the mean cross-entropy of a language model on a text;
/// `recur eval --checkpoint C --data FILE`: the metrics of a `recur fit` model on labelled sequences.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure a model: a language model's cross-entropy on a text, or a fitted model's metrics on labelled sequences.",
    discussion: """
      With --data (a labelled file in recur fit's formats): accuracy, per-class precision, recall and F1, \
      macro-F1 and the confusion matrix for class and binary targets; MSE, MAE and R² for real targets.
      With --text:
      Definition: the text is one stream read from the zero state; every character after the first is \
      predicted from all the characters before it; the figure is the mean of −ln p over those predictions \
      (bits: divided by ln 2). No <start> token is read. --last 0.1 evaluates the last 10% of the text, the \
      validation part of `recur train`.
      --dynamic: dynamic evaluation (Krause et al. 2018). The model goes on learning from the text after \
      predicting each segment of it, so every character is still predicted from the ones before it alone; \
      the figure is reported apart from the static one. The rms rule (the default when the checkpoint holds \
      Adam's or RMSprop's state) scales each weight's step by its training gradients' root mean square; the \
      sgd rule needs no statistics.
      """
  )

  @Option(help: "The checkpoint (Recur's, or one saved by interop/recur_torch.py).")
  var checkpoint: String

  @OptionGroup(title: "Weights")
  var weightsOptions: WeightsOptions

  @Option(help: "The text to evaluate a language model on.")
  var text: String?

  @Option(help: "Labelled sequences (.jsonl or .csv, as recur fit reads) to measure a fitted model on.")
  var data: String?

  @OptionGroup(title: "Metrics")
  var metricsOutput: MetricsOutputOptions

  @Option(help: "Evaluate only the last fraction of the text's characters (0.1: train's validation part).")
  var last: Double?

  @Option(help: "Read the text as this many parallel streams (1: the definition above; more: faster, split over the ranks of an mpirun job, slightly above the one-stream figure).")
  var streams = 1

  @OptionGroup(title: "Dynamic evaluation")
  var dynamicOptions: DynamicEvaluationOptions

  @Flag(help: "Print the result as one JSON object.")
  var json = false

  func validate() throws {
    guard (text == nil) != (data == nil) else { throw CLIError("give one of --text (a language model) or --data (a fitted model)") }
    if data != nil, last != nil { throw CLIError("--last applies to --text, not --data") }
    if let last, !(last > 0 && last <= 1) { throw CLIError("--last must be in (0, 1], got \(last)") }
    guard streams >= 1 else { throw CLIError("--streams must be at least 1, got \(streams)") }
    if dynamicOptions.isSet {
      guard text != nil else { throw CLIError("--dynamic applies to --text, not --data") }
      guard streams == 1 else {
        throw CLIError("--dynamic reads the text as one stream (a second stream would learn from text the first has not reached); drop --streams")
      }
      guard Ranks.launchedSize == 1 else { throw CLIError("--dynamic reads the text as one stream on one process; run it without mpirun") }
    }
  }

  func run() throws {
    if let data { return try runMetrics(data: data) }
    let text = self.text ?? ""
    let model = try readLanguageModel(path: checkpoint, weights: weightsOptions.weights)
    // A plain text, or a token file of `recur prepare` (mapped).
    let all = try TextInput(path: text, given: model.vocabulary) { model.vocabulary.kind }.tokens
    let tokens = last.map { all.slice((all.count - Int((Double(all.count) * $0).rounded(.down)))..<all.count) } ?? all
    guard tokens.count >= 2 else {
      throw CLIError("the text to evaluate has \(tokens.count) character\(tokens.count == 1 ? "" : "s"); it needs at least 2")
    }
    let dynamic = try dynamicOptions.settings(for: model.checkpoint)
    let result = try oneLine("") {
      if let (settings, statistics) = dynamic {
        let progress = EvaluationProgress()
        defer { progress.finish() }
        return try model.network.dynamicallyEvaluateLanguageModel(
          on: tokens, settings: settings, statistics: statistics, onSegment: progress.update)
      }
      return try model.network.evaluateLanguageModel(on: tokens, streams: streams, communicator: Ranks.communicator)
    }
    if json {
      var object: [String: Any] = [
        "nats_per_char": result.natsPerToken, "bits_per_char": result.bitsPerToken,
        "predictions": result.predictions, "checkpoint": checkpoint, "text": text,
      ]
      if let (settings, _) = dynamic {
        object["dynamic"] = [
          "rule": settings.rule.rawValue, "segment_length": settings.segmentLength,
          "learning_rate": settings.learningRate, "decay": settings.decay, "epsilon": settings.epsilon,
        ] as [String: Any]
      }
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
      print(String(decoding: data, as: UTF8.self))
    } else {
      let how = dynamic.map { s, _ in
        String(format: ", dynamic: %@ rule, n = %d, η = %g, λ = %g", s.rule.rawValue, s.segmentLength, s.learningRate, s.decay)
      } ?? ""
      print(String(format: "%.4f nats/char  %.4f bits/char  (%d predictions%@)", result.natsPerToken, result.bitsPerToken, result.predictions, how))
    }
  }
}

extension DynamicEvaluation.Rule: ExpressibleByArgument {}

/// `recur eval --dynamic` and the settings of its update (``DynamicEvaluation``).
struct DynamicEvaluationOptions: ParsableArguments {
  private static let rms = DynamicEvaluation.defaults(for: .rms), sgd = DynamicEvaluation.defaults(for: .sgd)

  @Flag(help: "Dynamic evaluation: adapt the weights to the text after predicting each segment of it.")
  var dynamic = false

  @Option(name: .customLong("dynamic-rule"), help: "The update: rms (default when the checkpoint holds Adam's or RMSprop's state) or sgd.")
  var rule: DynamicEvaluation.Rule?

  @Option(name: .customLong("dynamic-segment"), help: "Predictions per segment, the BPTT length of each update (default: \(Self.rms.segmentLength)).")
  var segmentLength: Int?

  @Option(name: .customLong("dynamic-lr"), help: "η, the step size (default: \(Self.rms.learningRate) for rms, \(Self.sgd.learningRate) for sgd).")
  var learningRate: Double?

  @Option(name: .customLong("dynamic-decay"), help: "λ, the pull back towards the trained weights, in [0, 1] (default: \(Self.rms.decay) for rms, \(Self.sgd.decay) for sgd).")
  var decay: Double?

  /// Whether any dynamic-evaluation option was given (each of them implies --dynamic).
  var isSet: Bool { dynamic || rule != nil || segmentLength != nil || learningRate != nil || decay != nil }

  /// The settings and MS_g for a checkpoint, or nil for static evaluation.
  func settings(for checkpoint: Checkpoint<Float>) throws -> (DynamicEvaluation, GradientStatistics<Float>?)? {
    guard isSet else { return nil }
    let statistics = GradientStatistics(checkpoint: checkpoint)
    let rule = self.rule ?? (statistics != nil ? .rms : .sgd)
    if rule == .rms, statistics == nil {
      throw CLIError("--dynamic-rule rms needs the training gradients' mean squares, which this checkpoint lacks (no Adam or RMSprop state); use --dynamic-rule sgd")
    }
    var settings = DynamicEvaluation.defaults(for: rule)
    if let segmentLength { settings.segmentLength = segmentLength }
    if let learningRate { settings.learningRate = learningRate }
    if let decay { settings.decay = decay }
    try oneLine("--dynamic") { try settings.validate() }
    return (settings, rule == .rms ? statistics : nil)
  }
}

/// The progress of a long evaluation on standard error: one line rewritten in place on a terminal, nothing
/// otherwise.
final class EvaluationProgress {
  private let isTerminal = isatty(STDERR_FILENO) != 0
  private let start = Date()
  private var lastPrint = Date.distantPast, printed = false

  func update(done: Int, lossSum: Double, total: Int) {
    guard isTerminal, Date().timeIntervalSince(lastPrint) >= 0.5 || done == total else { return }
    lastPrint = Date()
    let elapsed = Date().timeIntervalSince(start)
    let left = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
    let line = String(
      format: "\r%d/%d predictions  %.4f nats/char so far  elapsed %@  left %@", done, total,
      lossSum / Double(max(done, 1)), duration(elapsed), duration(left))
    FileHandle.standardError.write(Data(line.utf8))
    printed = true
  }

  func finish() {
    if printed { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}

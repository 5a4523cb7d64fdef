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

  @Flag(help: "Print the result as one JSON object.")
  var json = false

  func validate() throws {
    guard (text == nil) != (data == nil) else { throw CLIError("give one of --text (a language model) or --data (a fitted model)") }
    if data != nil, last != nil { throw CLIError("--last applies to --text, not --data") }
    if let last, !(last > 0 && last <= 1) { throw CLIError("--last must be in (0, 1], got \(last)") }
    guard streams >= 1 else { throw CLIError("--streams must be at least 1, got \(streams)") }
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
    let result = try oneLine("") {
      try model.network.evaluateLanguageModel(on: tokens, streams: streams, communicator: Ranks.communicator)
    }
    if json {
      let object: [String: Any] = [
        "nats_per_char": result.natsPerToken, "bits_per_char": result.bitsPerToken,
        "predictions": result.predictions, "checkpoint": checkpoint, "text": text,
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
      print(String(decoding: data, as: UTF8.self))
    } else {
      print(String(format: "%.4f nats/char  %.4f bits/char  (%d predictions)", result.natsPerToken, result.bitsPerToken, result.predictions))
    }
  }
}

import ArgumentParser
import Foundation
import Recur

/// `recur predict`: runs a trained model over new sequences one step at a time (the state-machine view:
/// s_t = f_s(s_{t-1}, x_t), y_t = f_o(s_t)) and writes its outputs as JSON Lines.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Run a trained model over new sequences, step by step, and write its outputs as JSON Lines.",
    discussion: """
      Reads the same formats as recur fit (targets, if present, are ignored). Writes one line per input \
      sequence: {"y": [[…], …]} for real outputs; {"y": [labels], "p": [[probabilities], …]} for class \
      labels; {"y": [1, -1, …], "p": [σ, …]} for the chapter's ±1 sequence classification.
      """
  )

  @Option(help: "A model written by recur fit (or recur task), or its model folder.")
  var checkpoint: String

  @Option(help: "The sequences: a .jsonl (JSON Lines) or .csv file.")
  var data: String

  @Option(name: .shortAndLong, help: "Write the predictions here instead of standard output.")
  var output: String?

  func run() throws {
    let file = try checkpointFile(checkpoint, option: "--checkpoint")
    let loaded = try oneLine("--checkpoint \(checkpoint)") { try Checkpoint<Float>(contentsOf: file) }
    let network = loaded.network
    let config = network.configuration
    guard config.embeddingSize == nil else {
      throw CLIError("this model reads token ids; recur predict runs models over vector sequences")
    }
    let kind: SequenceDataset.TargetKind =
      loaded.metadata["data.targets"].flatMap(SequenceDataset.TargetKind.init(rawValue:))
      ?? (config.outputActivation == .softmax ? .classes : config.outputActivation == .sigmoid ? .binary : .values)
    let dataset = try SequenceDataset.load(contentsOf: URL(fileURLWithPath: data), requireTargets: false)
    guard dataset.featureCount == config.inputSize else {
      throw CLIError(
        "the data has \(dataset.featureCount) features per step but the model reads \(config.inputSize)")
    }
    var out = ""
    for sequence in dataset.inputs {
      // The state-machine view: one input at a time, carrying the state.
      var state = network.initialState
      var outputs: [[Float]] = []
      for x in sequence {
        let step = network.step(state, .vector(x))
        state = step.state
        outputs.append(step.output)
      }
      out += Self.line(outputs, kind: kind) + "\n"
    }
    if let output {
      try out.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
      print("\(dataset.inputs.count) predictions written to \(output)")
    } else {
      print(out, terminator: "")
    }
  }

  /// One JSON line for the outputs g_1 … g_n of a sequence.
  static func line(_ outputs: [[Float]], kind: SequenceDataset.TargetKind) -> String {
    func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
    switch kind {
    case .values:
      return "{\"y\": [" + outputs.map { "[" + $0.map(number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]}"
    case .classes:
      let labels = outputs.map { g in String(g.indices.max { g[$0] < g[$1] }!) }
      return "{\"y\": [" + labels.joined(separator: ", ") + "], \"p\": ["
        + outputs.map { "[" + $0.map(number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]}"
    case .binary:
      return "{\"y\": [" + outputs.map { $0[0] > 0.5 ? "1" : "-1" }.joined(separator: ", ") + "], \"p\": ["
        + outputs.map { number($0[0]) }.joined(separator: ", ") + "]}"
    }
  }
}

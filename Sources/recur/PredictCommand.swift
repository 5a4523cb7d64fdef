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
      labels; {"y": [1, -1, …], "p": [σ, …]} for the chapter's ±1 sequence classification. A model fitted \
      with one target per sequence writes one output per sequence: {"y": [values]}, {"y": label, "p": [...]} \
      or {"y": 1, "p": σ}.
      --stream reads live steps from standard input instead, one JSON object per line: \
      {"id": "sensor-7", "x": [0.1, 0.4]} takes one step of stream "sensor-7" (each id has its own state, \
      started at zero) and writes one line at once: {"id": "sensor-7", "t": 1, "y": …} (and "p" for labels). \
      {"id": "sensor-7", "reset": true} sets that stream back to the zero state; {"id": "sensor-7", "end": true} \
      forgets it. A line that cannot be read gets {"line": n, "error": "…"} and the other streams go on.
      """
  )

  @Option(help: "A model written by recur fit (or recur task), or its model folder.")
  var checkpoint: String

  @OptionGroup(title: "Weights")
  var weightsOptions: WeightsOptions

  @Option(help: "The sequences: a .jsonl (JSON Lines) or .csv file.")
  var data: String?

  @Flag(help: "Read live steps from standard input (JSON Lines with a stream id) and answer each line at once.")
  var stream = false

  @Option(name: .shortAndLong, help: "Write the predictions here instead of standard output.")
  var output: String?

  func validate() throws {
    guard (data == nil) == stream else { throw CLIError("give one of --data (a file of sequences) or --stream (steps on standard input)") }
    if stream, output != nil { throw CLIError("--stream writes to standard output, one line per input line; --output applies to --data") }
  }

  func run() throws {
    if stream { return try runStream() }
    let data = self.data ?? ""
    let file = try checkpointFile(checkpoint, option: "--checkpoint")
    let loaded = try oneLine("--checkpoint \(checkpoint)") { try Checkpoint<Float>(contentsOf: file) }
    let network = loaded.network(weights: weightsOptions.weights)
    let config = network.configuration
    guard config.embeddingSize == nil else {
      throw CLIError("this model reads token ids; recur predict runs models over vector sequences")
    }
    let kind: SequenceDataset.TargetKind =
      loaded.metadata["data.targets"].flatMap(SequenceDataset.TargetKind.init(rawValue:))
      ?? (config.outputActivation == .softmax ? .classes : config.outputActivation == .sigmoid ? .binary : .values)
    let dataset = try SequenceDataset.load(
      contentsOf: URL(fileURLWithPath: data), requireTargets: false,
      layout: loaded.metadata["data.layout"].flatMap(SequenceDataset.TargetLayout.init(rawValue:)))
    guard dataset.featureCount == config.inputSize else {
      throw CLIError(
        "the data has \(dataset.featureCount) features per step but the model reads \(config.inputSize)")
    }
    var out = ""
    if loaded.metadata["data.layout"] == SequenceDataset.TargetLayout.sequence.rawValue {
      let readout = loaded.metadata["data.readout"].flatMap(SequenceReadout.init(rawValue:)) ?? .last
      let V = config.outputSize, workspace = NetworkWorkspace<Float>()
      for start in stride(from: 0, to: dataset.inputs.count, by: 64) {
        let part = Array(start..<min(start + 64, dataset.inputs.count))
        let g = try oneLine("") { try network.sequenceOutputs(for: try dataset.batch(part), readout: readout, workspace: workspace) }
        for b in part.indices { out += Self.sequenceLine(Array(g.scalars[(b * V)..<(b * V + V)]), kind: kind) + "\n" }
      }
    }
    let perStep = loaded.metadata["data.layout"] != SequenceDataset.TargetLayout.sequence.rawValue
    if perStep, config.bidirectional {
      // Both directions need the whole sequence: one batched pass per sequence.
      let V = config.outputSize, workspace = NetworkWorkspace<Float>()
      for i in dataset.inputs.indices {
        let g = try oneLine("") { try network.outputs(for: try dataset.batch([i]), workspace: workspace).outputs.scalars }
        out += Self.line((0..<dataset.inputs[i].count).map { Array(g[($0 * V)..<($0 * V + V)]) }, kind: kind) + "\n"
      }
    }
    for sequence in dataset.inputs where perStep && !config.bidirectional {
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

  /// One JSON line for the one output g of a sequence.
  static func sequenceLine(_ g: [Float], kind: SequenceDataset.TargetKind) -> String {
    func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
    switch kind {
    case .values: return "{\"y\": [" + g.map(number).joined(separator: ", ") + "]}"
    case .classes: return "{\"y\": \(g.indices.max { g[$0] < g[$1] }!), \"p\": [" + g.map(number).joined(separator: ", ") + "]}"
    case .binary: return "{\"y\": \(g[0] > 0.5 ? 1 : -1), \"p\": \(number(g[0]))}"
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

import ArgumentParser
import Foundation
import Recur

/// Where `recur fit` and `recur eval --data` write a classifier's confusion matrix besides printing it.
struct MetricsOutputOptions: ParsableArguments {
  @Option(help: "Write the confusion matrix as CSV to this file (class and binary targets).")
  var confusionCSV: String?

  @Option(help: "Write the confusion matrix as an SVG heat map to this file (class and binary targets).")
  var confusionSVG: String?

  /// Prints the metrics (unless `quiet`) and writes the confusion matrix files (atomically) when asked.
  func report(_ metrics: SequenceMetrics, title: String, quiet: Bool = false) throws {
    if !quiet { print(metrics.report, terminator: "") }
    guard case .classification(let matrix) = metrics else {
      if confusionCSV != nil || confusionSVG != nil { print("(no confusion matrix: the targets are real values)") }
      return
    }
    if let confusionCSV {
      try AtomicFile.write(Data(matrix.csv().utf8), to: URL(fileURLWithPath: confusionCSV))
      if !quiet { print("confusion matrix written to \(confusionCSV)") }
    }
    if let confusionSVG {
      try AtomicFile.write(Data(matrix.heatMap(title: title).utf8), to: URL(fileURLWithPath: confusionSVG))
      if !quiet { print("confusion matrix heat map written to \(confusionSVG)") }
    }
  }
}

/// A model written by `recur fit` and how it reads its data.
struct FittedModelFile {
  let checkpoint: Checkpoint<Float>
  let kind: SequenceDataset.TargetKind
  /// One target per step (and per-step outputs) or one per sequence, as the model was fitted.
  let layout: SequenceDataset.TargetLayout
  /// How the model reads one output per sequence.
  let readout: SequenceReadout

  init(path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("--checkpoint \(path): no such file") }
    checkpoint = try oneLine("--checkpoint \(path)") { try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: path)) }
    let config = checkpoint.network.configuration
    guard config.embeddingSize == nil else {
      throw CLIError("this model reads token ids; give it a text with --text, not sequences with --data")
    }
    kind =
      checkpoint.metadata["data.targets"].flatMap(SequenceDataset.TargetKind.init(rawValue:))
      ?? (config.outputActivation == .softmax ? .classes : config.outputActivation == .sigmoid ? .binary : .values)
    layout = checkpoint.metadata["data.layout"].flatMap(SequenceDataset.TargetLayout.init(rawValue:)) ?? .step
    readout = checkpoint.metadata["data.readout"].flatMap(SequenceReadout.init(rawValue:)) ?? .last
  }

  /// Reads labelled sequences for this model, checking that they fit it.
  func load(_ path: String) throws -> SequenceDataset {
    let dataset = try oneLine("--data \(path)") {
      try SequenceDataset.load(contentsOf: URL(fileURLWithPath: path), kind: kind, layout: layout)
    }
    let config = checkpoint.network.configuration
    guard dataset.featureCount == config.inputSize else {
      throw CLIError("the data has \(dataset.featureCount) features per step but the model reads \(config.inputSize)")
    }
    if dataset.kind == .classes, dataset.outputSize > config.outputSize {
      throw CLIError("the data has class \(dataset.outputSize - 1) but the model has \(config.outputSize) classes")
    }
    if dataset.kind == .values, dataset.outputSize != config.outputSize {
      throw CLIError("the data has \(dataset.outputSize) target values per step but the model has \(config.outputSize) outputs")
    }
    return dataset
  }
}

extension EvalCommand {
  /// `recur eval --data`: the metrics of a fitted model on a labelled file, from the zero state.
  func runMetrics(data: String) throws {
    let model = try FittedModelFile(path: checkpoint)
    let dataset = try model.load(data)
    let metrics = try oneLine("") { try dataset.metrics(of: model.checkpoint.network(weights: weightsOptions.weights), readout: model.readout) }
    if json {
      try metricsOutput.report(metrics, title: "recur eval: \(data)", quiet: true)
      var object: [String: Any] = ["checkpoint": checkpoint, "data": data]
      switch metrics {
      case .classification(let m):
        let K = m.classCount
        object["accuracy"] = m.accuracy
        object["macro_f1"] = m.macroF1
        object["precision"] = (0..<K).map(m.precision)
        object["recall"] = (0..<K).map(m.recall)
        object["f1"] = (0..<K).map(m.f1)
        object["support"] = (0..<K).map(m.support)
        object["confusion_matrix"] = (0..<K).map { k in (0..<K).map { m[k, $0] } }
      case .regression(let m):
        object["mse"] = m.meanSquaredError
        object["mae"] = m.meanAbsoluteError
        object["r2"] = m.r2
        object["r2_per_output"] = m.r2PerOutput
        object["examples"] = m.count
      }
      let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
      print(String(decoding: bytes, as: UTF8.self))
      return
    }
    print("\(dataset.inputs.count) sequences, targets: \(dataset.kind.rawValue) per \(dataset.layout.rawValue)")
    try metricsOutput.report(metrics, title: "recur eval: \(data)")
  }
}

extension SequenceReadout: ExpressibleByArgument {}
extension SequenceDataset.TargetLayout: ExpressibleByArgument {}

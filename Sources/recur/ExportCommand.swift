import ArgumentParser
import Foundation
import Recur
import RecurExport

/// `recur export --checkpoint C --onnx M.onnx` / `--folder DIR`: a trained model for other tools.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export a trained model as ONNX or as a model folder.",
    discussion: """
      --onnx writes an ONNX model (opset 17) with ONNX's LSTM, GRU and RNN operators: inputs tokens (T × B, \
      int64) or inputs (T × B × I), sequence_lens (B) and the state h0 (and c0 for the LSTM, L·D × B × H); \
      outputs logits, output (f_o of the logits) and the final state hn (and cn). A bidirectional model \
      (D = 2) uses ONNX's bidirectional layout and runs on whole sequences only. The chapter's gated RNN, \
      which has no ONNX operator, becomes a Scan over elementary operators (one direction only). --folder writes config.json, model.safetensors, vocab.json and a \
      README.md model card, which every recur command and interop/recur_torch.py load as the checkpoint itself.
      """
  )

  @Option(help: "The checkpoint: a language model (recur train) or a sequence model (recur fit), file or model folder.")
  var checkpoint: String

  @OptionGroup(title: "Weights")
  var weightsOptions: WeightsOptions

  @Option(help: "Write an ONNX model here.")
  var onnx: String?

  @Option(help: "Write a model folder here (replacing a model folder already there).")
  var folder: String?

  @Option(name: .customLong("sample-length"), help: "Characters of the model card's sample (language models).")
  var sampleLength = 300

  @Option(help: "Seed of the model card's sample.")
  var seed: UInt64 = 1

  func validate() throws {
    guard onnx != nil || folder != nil else { throw CLIError("nothing to export: give --onnx FILE and/or --folder DIR") }
    guard (0...100_000).contains(sampleLength) else {
      throw CLIError("--sample-length must be in 0…100000, got \(sampleLength)")
    }
  }

  func run() throws {
    let file = try checkpointFile(checkpoint, option: "--checkpoint")
    let read = try oneLine("--checkpoint \(checkpoint)") { try Checkpoint<Float>(contentsOf: file) }
    // The model with the chosen weights (θ̄ by default when the run kept an average), saying which.
    let loaded = read.model(weights: weightsOptions.weights)
    if let line = loaded.metadata[Checkpoint<Float>.weightsMetadataKey] { print("weights: \(line)") }
    if let onnx {
      let metadata = loaded.metadata.merging(Checkpoint<Float>.metadata(for: loaded.network.configuration)) { $1 }
      try oneLine("--onnx \(onnx)") {
        try ONNXExport.write(loaded.network, metadata: metadata, to: URL(fileURLWithPath: onnx))
      }
      print("ONNX model written to \(onnx)")
    }
    if let folder {
      var sample: String?
      if loaded.network.configuration.embeddingSize != nil, sampleLength > 0,
        let model = try? LanguageModelCheckpoint(loaded)
      {
        let generator = try oneLine("") { try TextSampler(network: model.network) }
        var rng = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        try oneLine("") {
          _ = try generator.generateText(
            vocabulary: model.vocabulary, mode: model.mode, length: sampleLength,
            options: SamplingOptions(temperature: 0.8), using: &rng, output: { bytes += $0 })
        }
        sample = String(decoding: bytes, as: UTF8.self)
      }
      try oneLine("--folder \(folder)") { try ModelFolder.write(loaded, to: URL(fileURLWithPath: folder), sample: sample) }
      print("model folder written to \(folder)")
    }
  }
}

/// The checkpoint file a `--checkpoint` (or `--init`, `--resume`) path names: the file itself, or a model
/// folder's model.safetensors once the folder is found complete.
func checkpointFile(_ path: String, option: String) throws -> URL {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw CLIError("\(option) \(path): no such file")
  }
  let url = URL(fileURLWithPath: path)
  guard isDirectory.boolValue else { return url }
  do { return try ModelFolder.checkpointURL(folder: url) } catch let error as ExportError {
    throw CLIError("\(option) \(path) is a directory, not a complete model folder: \(error.message)")
  }
}

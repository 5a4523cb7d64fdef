import Foundation
import Recur

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A trained model as the folder that model hubs expect:
///
///     config.json          the model's configuration (the checkpoint's `model.*` metadata, as JSON)
///     model.safetensors    a `recur-lm-1` checkpoint without optimizer or trainer state: PyTorch
///                          `state_dict` names, the configuration and the vocabulary in its metadata
///     vocab.json           the vocabulary (token models with a vocabulary)
///     README.md            a model card: what the model is, how it was trained, its evaluation, a sample
///
/// Recur and `interop/recur_torch.py` load the folder as they load `model.safetensors` alone. The folder is
/// written atomically: built beside its destination under a temporary name and renamed into place.
public enum ModelFolder {
  /// The file names of a model folder.
  public static let checkpointName = "model.safetensors", configName = "config.json"
  /// The file names of a model folder.
  public static let vocabularyName = "vocab.json", cardName = "README.md"

  /// The checkpoint metadata keys that record how a model was trained (written by `recur train` and
  /// `recur fit`, shown by the model card).
  public enum Provenance {
    /// The command line of the run (of the latest one, for a resumed run).
    public static let command = "train.command"
    /// The training data's file name, size in bytes and SHA-256.
    public static let dataFile = "data.file", dataBytes = "data.bytes", dataSHA256 = "data.sha256"

    /// The provenance metadata of a run on `data` read from `path`.
    public static func metadata(command: [String] = CommandLine.arguments, path: String, data: [UInt8]) -> [String: String] {
      [
        Self.command: TensorBoardLog.commandLine(command),
        dataFile: URL(fileURLWithPath: path).lastPathComponent, dataBytes: String(data.count),
        dataSHA256: SHA256.hexDigest(data),
      ]
    }
  }

  /// The checkpoint inside a model folder, after checking that every file of the folder is there.
  ///
  /// - Throws: ``ExportError`` naming the first missing file, or a config.json that is not Recur's.
  public static func checkpointURL(folder: URL) throws -> URL {
    for name in [configName, checkpointName] {
      guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) else {
        throw ExportError("the model folder \(folder.path) has no \(name)")
      }
    }
    let configURL = folder.appendingPathComponent(configName)
    guard let data = try? AtomicFile.read(from: configURL),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      object["format"] as? String == Checkpoint<Float>.formatName
    else {
      throw ExportError("\(configURL.path) is not a Recur model configuration (format \(Checkpoint<Float>.formatName))")
    }
    if object["vocab_size"] != nil,
      !FileManager.default.fileExists(atPath: folder.appendingPathComponent(vocabularyName).path)
    {
      throw ExportError("the model folder \(folder.path) has no \(vocabularyName)")
    }
    return folder.appendingPathComponent(checkpointName)
  }

  /// The configuration as config.json holds it: the `model.*` metadata with numbers as numbers.
  public static func configJSON(_ configuration: RecurrentNetwork<Float>.Configuration) -> Data {
    var object: [String: Any] = ["model_type": "recur"]
    for (key, value) in Checkpoint<Float>.metadata(for: configuration) {
      let name = key.hasPrefix("model.") ? String(key.dropFirst(6)) : key
      let probability = name == "dropout" || configuration.regularization.named.contains { $0.name == name }
      if let n = Int(value) { object[name] = n } else if let d = Double(value), probability { object[name] = d } else { object[name] = value }
    }
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    return data + Data("\n".utf8)
  }

  /// Writes `checkpoint`'s model as a folder at `directory`, replacing a model folder already there.
  ///
  /// - Parameters:
  ///   - checkpoint: the trained model (its optimizer and trainer state are left out of the folder).
  ///   - directory: the folder to write; its parent must exist.
  ///   - sample: a sample of the model's output for the card, or nil.
  /// - Throws: ``ExportError`` when `directory` exists and is not a model folder, or a file cannot be
  ///   written; nothing is left behind then.
  public static func write(_ checkpoint: Checkpoint<Float>, to directory: URL, sample: String?) throws {
    let manager = FileManager.default
    let destination = directory.standardizedFileURL
    var isDirectory: ObjCBool = false
    let exists = manager.fileExists(atPath: destination.path, isDirectory: &isDirectory)
    if exists {
      guard isDirectory.boolValue else { throw ExportError("\(destination.path) exists and is not a folder") }
      let contents = (try? manager.contentsOfDirectory(atPath: destination.path)) ?? []
      guard contents.isEmpty || contents.contains(checkpointName) else {
        throw ExportError("\(destination.path) exists and is not a model folder; choose a new folder")
      }
    }
    let parent = destination.deletingLastPathComponent()
    let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).partial-\(getpid())")
    try? manager.removeItem(at: staging)
    do {
      try manager.createDirectory(at: staging, withIntermediateDirectories: false)
    } catch {
      throw ExportError("cannot write the model folder \(destination.path): \(parent.path) is not writable")
    }
    do {
      let model = Checkpoint(network: checkpoint.network, options: checkpoint.options, metadata: checkpoint.metadata)
      try model.write(to: staging.appendingPathComponent(checkpointName))
      try AtomicFile.write(configJSON(checkpoint.network.configuration), to: staging.appendingPathComponent(configName))
      if let vocabulary = try? Vocabulary(metadata: checkpoint.metadata) {
        let object: [String: Any] = ["kind": vocabulary.kind.rawValue, "tokens": vocabulary.tokens]
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try AtomicFile.write(json + Data("\n".utf8), to: staging.appendingPathComponent(vocabularyName))
      }
      try AtomicFile.write(
        Data(card(checkpoint, name: destination.lastPathComponent, sample: sample).utf8),
        to: staging.appendingPathComponent(cardName))
      // Into place: a folder already there is moved aside first and removed after.
      let old = parent.appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())")
      if exists { try manager.moveItem(at: destination, to: old) }
      do { try manager.moveItem(at: staging, to: destination) } catch {
        if exists { try? manager.moveItem(at: old, to: destination) }
        throw error
      }
      if exists { try? manager.removeItem(at: old) }
    } catch {
      try? manager.removeItem(at: staging)
      if let error = error as? ExportError { throw error }
      throw ExportError("cannot write the model folder \(destination.path): \(error)")
    }
  }

  /// The model card (README.md) of a checkpoint.
  public static func card(_ checkpoint: Checkpoint<Float>, name: String, sample: String?) -> String {
    let c = checkpoint.network.configuration
    let meta = checkpoint.metadata
    let vocabulary = try? Vocabulary(metadata: meta)
    var kind: String
    var sizes = "H = \(c.hiddenSize)"
    if let e = c.embeddingSize {
      kind = vocabulary.map { "\($0.kind == .bytes ? "byte" : "character") language model" } ?? "token model"
      sizes += ", E = \(e), V = \(c.inputSize)"
    } else {
      kind = "sequence model (\(c.inputSize) inputs, \(c.outputSize) outputs, \(c.outputActivation.rawValue) output)"
      sizes += ", I = \(c.inputSize), outputs \(c.outputSize)"
    }
    var lines = [
      "# \(name)", "",
      "A \(c.layers)-layer \(c.cell) \(kind) trained with Recur, \(sizes), "
        + "\(checkpoint.network.parameterCount) parameters.",
      "",
      "## Files", "",
      "- `\(checkpointName)`: the weights under PyTorch `state_dict` names (`embedding.weight`, `rnn.weight_ih_l0`, …, "
        + "`head.weight`, `head.bias`) and the configuration in its metadata (format `\(Checkpoint<Float>.formatName)`).",
      "- `\(configName)`: the configuration.",
    ]
    if vocabulary != nil { lines.append("- `\(vocabularyName)`: the vocabulary, token id order.") }
    lines += [
      "- `\(cardName)`: this card.", "",
      "## Use", "",
      "```",
      c.embeddingSize != nil ? "recur sample --checkpoint \(name)" : "recur predict --checkpoint \(name) --data SEQUENCES.jsonl",
      "recur export --onnx \(name).onnx --checkpoint \(name)",
      "```", "",
    ]
    if c.embeddingSize != nil {
      lines += [
        "In Python (`interop/recur_torch.py`): `model, vocabulary = load_from_recur(\"\(name)\")`.", "",
      ]
    }
    lines += ["## Training", ""]
    if let weights = meta[Checkpoint<Float>.weightsMetadataKey] { lines.append("- Weights: \(weights)") }
    if let command = meta[Provenance.command] { lines.append("- Command: `\(command)`") }
    if let file = meta[Provenance.dataFile] {
      var data = "- Data: `\(file)`"
      if let bytes = meta[Provenance.dataBytes] { data += ", \(bytes) bytes" }
      if let sha = meta[Provenance.dataSHA256] { data += ", SHA-256 `\(sha)`" }
      lines.append(data)
    }
    if let options = checkpoint.options {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      if let json = try? encoder.encode(options) { lines.append("- Trainer options: `\(String(decoding: json, as: UTF8.self))`") }
    }
    if c.dropout > 0 { lines.append("- Dropout: \(c.dropout)") }
    let regularizers = c.regularization.named.filter { $0.value > 0 }
    if !regularizers.isEmpty {
      lines.append("- Regularizers (AWD-LSTM): " + regularizers.map { "\($0.name) \($0.value)" }.joined(separator: ", "))
    }
    if meta[Provenance.command] == nil, checkpoint.options == nil { lines.append("- Not recorded in the checkpoint.") }
    lines += ["", "## Evaluation", ""]
    if let position = checkpoint.position {
      var line = "- \(position.step) training steps"
      if let v = position.lastValidationLoss { line += String(format: "; validation loss %.4f", v) }
      if let b = position.bestValidationLoss { line += String(format: " (best %.4f)", b) }
      lines.append(line + (c.embeddingSize != nil && c.outputActivation == .softmax ? " nats per token" : ""))
    } else {
      lines.append("- No evaluation recorded in the checkpoint.")
    }
    if let sample {
      lines += ["", "## Sample", "", "```", sample, "```"]
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

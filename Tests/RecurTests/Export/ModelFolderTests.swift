import Foundation
import Recur
import Testing

@testable import RecurExport

@Suite("Export/model folders")
struct ModelFolderTests {
  static func checkpoint() throws -> Checkpoint<Float> {
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .gru, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 2), seed: 2)
    let vocabulary = Vocabulary(characters: "abc".unicodeScalars)
    var metadata = vocabulary.metadata
    metadata.merge(ModelFolder.Provenance.metadata(command: ["/x/recur", "train", "--text", "t.txt"], path: "/data/t.txt", data: Array("abc".utf8))) { $1 }
    return Checkpoint(network: network, metadata: metadata)
  }

  @Test("written folder: every file, the same model back, provenance in the card; replaced in place")
  func roundTrip() throws {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("recur-folder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: parent) }
    let destination = parent.appendingPathComponent("model")
    let original = try Self.checkpoint()
    try ModelFolder.write(original, to: destination, sample: "abcab")
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: destination.path))
    #expect(names == ["config.json", "model.safetensors", "vocab.json", "README.md"])
    let loaded = try Checkpoint<Float>(contentsOf: try ModelFolder.checkpointURL(folder: destination))
    #expect(loaded.network == original.network)
    #expect(try Vocabulary(metadata: loaded.metadata) == Vocabulary(characters: "abc".unicodeScalars))
    let config = try JSONSerialization.jsonObject(with: Data(contentsOf: destination.appendingPathComponent("config.json"))) as? [String: Any]
    #expect(config?["hidden_size"] as? Int == 4 && config?["cell"] as? String == "gru" && config?["num_layers"] as? Int == 2)
    let card = try String(contentsOf: destination.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(card.contains("`recur train --text t.txt`"))
    #expect(card.contains("`t.txt`, 3 bytes, SHA-256 `ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad`"))
    #expect(card.contains("```\nabcab\n```"))

    // Again over the first: replaced, nothing else left in the parent.
    try ModelFolder.write(original, to: destination, sample: nil)
    #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["model"])
    #expect(!(try String(contentsOf: destination.appendingPathComponent("README.md"), encoding: .utf8)).contains("## Sample"))
  }

  @Test("a folder missing a file, or with another config.json, is refused by name")
  func incomplete() throws {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("recur-folder-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: parent) }
    let destination = parent.appendingPathComponent("model")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    try ModelFolder.write(try Self.checkpoint(), to: destination, sample: nil)
    try FileManager.default.removeItem(at: destination.appendingPathComponent("vocab.json"))
    #expect(throws: ExportError("the model folder \(destination.path) has no vocab.json")) {
      try ModelFolder.checkpointURL(folder: destination)
    }
    try Data("{\"format\": \"other\"}".utf8).write(to: destination.appendingPathComponent("config.json"))
    #expect(throws: ExportError.self) { try ModelFolder.checkpointURL(folder: destination) }
    try FileManager.default.removeItem(at: destination.appendingPathComponent("model.safetensors"))
    #expect(throws: ExportError("the model folder \(destination.path) has no model.safetensors")) {
      try ModelFolder.checkpointURL(folder: destination)
    }
  }
}

/// The code of Sources/RecurExport/RecurExport.docc/ExportingModels.md, with its files in a temporary folder.
@Suite("Documentation/Exporting models")
struct ExportingModelsArticleTests {
  @Test("ONNX, a model folder and a TensorBoard log from a checkpoint and a trainer")
  func article() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-export-docs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try ModelFolderTests.checkpoint().write(to: folder.appendingPathComponent("model.safetensors"))

    let checkpoint = try Checkpoint<Float>(contentsOf: folder.appendingPathComponent("model.safetensors"))
    try ONNXExport.write(checkpoint.network, metadata: checkpoint.metadata, to: folder.appendingPathComponent("model.onnx"))
    let modelFolder = folder.appendingPathComponent("shakespeare-lstm")
    try ModelFolder.write(checkpoint, to: modelFolder, sample: nil)
    let again = try Checkpoint<Float>(contentsOf: try ModelFolder.checkpointURL(folder: modelFolder))
    #expect(again.network == checkpoint.network)
    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.onnx").path))

    let data = try SequencePairs<Float>(.tokens(inputs: [[0, 1, 2]], targets: [[1, 2, 0]]), batchSize: 1, seed: 1)
    let trainer = try Trainer(
      network: checkpoint.network, data: data,
      options: TrainerOptions(optimizer: .adam(learningRate: 0.01), loss: .crossEntropy, budget: TrainingBudget(steps: 2)))
    let log = try TensorBoardLog(directory: folder.appendingPathComponent("runs"), options: trainer.options)
    log.attach(to: trainer)
    try trainer.run()
    try log.finish()
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path).count == 1)
  }
}

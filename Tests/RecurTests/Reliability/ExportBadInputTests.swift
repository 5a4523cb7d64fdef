import Foundation
import Recur
import Testing

/// `recur export` and model folders given bad input: one clear line, a non-zero exit, and no half-written
/// export left behind.
@Suite("Reliability/export: bad checkpoints, incomplete model folders, unwritable destinations")
struct ExportBadInputTests {
  /// The bad-input folder with a model folder, the same folder without each file, an RNN with f_s = identity
  /// (which ONNX cannot express) and a
  /// safetensors file that is not a model.
  static func inputs() throws -> ScratchFolder {
    let folder = try BadInputTests.inputs()
    let export = try RecurProcess.run(["export", "--checkpoint", "lm.safetensors", "--folder", "lm-folder"], in: folder.url)
    try #require(export.status == 0, "exporting the model folder failed: \(export.standardError)")
    for missing in ["config.json", "model.safetensors", "vocab.json"] {
      let copy = folder.url.appendingPathComponent("no-\(missing)")
      try FileManager.default.copyItem(at: folder.url.appendingPathComponent("lm-folder"), to: copy)
      try FileManager.default.removeItem(at: copy.appendingPathComponent(missing))
    }
    let identity = try RecurProcess.run(
      ["train", "--text", "text.txt", "--model", "rnn_identity", "--hidden", "4", "--embedding", "3", "--layers", "1",
       "--batch-size", "2", "--seq-len", "8", "--steps", "1", "--quiet", "--checkpoint", "identity.safetensors"], in: folder.url)
    try #require(identity.status == 0, "training the identity RNN failed: \(identity.standardError)")
    var notAModel = SafeTensorsFile()
    try notAModel.add(Tensor<Float>(shape: [2, 2], repeating: 1), named: "weight")
    try notAModel.write(to: folder.url.appendingPathComponent("not-a-model.safetensors"))
    return folder
  }

  @Test("export and load: not a model, incomplete folders, unwritable paths, an identity RNN")
  func badExports() throws {
    let folder = try Self.inputs()
    typealias Case = BadInputTests.Case
    try BadInputTests().check([
      Case("export nothing", ["export", "--checkpoint", "lm.safetensors"], "nothing to export"),
      Case("export not a model", ["export", "--checkpoint", "not-a-model.safetensors", "--onnx", "out.onnx"],
        "not a Recur checkpoint"),
      Case("export a text file", ["export", "--checkpoint", "text.txt", "--folder", "out"], "--checkpoint text.txt: "),
      Case("export truncated", ["export", "--checkpoint", "half.safetensors", "--onnx", "out.onnx"], "--checkpoint half.safetensors: "),
      Case("export missing", ["export", "--checkpoint", "missing.safetensors", "--onnx", "out.onnx"], "no such file"),
      Case("export an identity RNN to ONNX", ["export", "--checkpoint", "identity.safetensors", "--onnx", "out.onnx"],
        "the RNN with f_s = identity has no ONNX RNN activation"),
      Case("ONNX to an unwritable path", ["export", "--checkpoint", "lm.safetensors", "--onnx", "text.txt/out.onnx"],
        "--onnx text.txt/out.onnx: "),
      Case("folder under a file", ["export", "--checkpoint", "lm.safetensors", "--folder", "text.txt/out"],
        "cannot write the model folder"),
      Case("folder over a file", ["export", "--checkpoint", "lm.safetensors", "--folder", "text.txt"], "exists and is not a folder"),
      Case("folder over another folder", ["export", "--checkpoint", "lm.safetensors", "--folder", "no-vocab.json/.."],
        "exists and is not a model folder"),
      Case("folder without config.json", ["sample", "--checkpoint", "no-config.json"], "has no config.json"),
      Case("folder without model.safetensors", ["eval", "--checkpoint", "no-model.safetensors", "--text", "text.txt"],
        "has no model.safetensors"),
      Case("folder without vocab.json", ["export", "--checkpoint", "no-vocab.json", "--onnx", "out.onnx"], "has no vocab.json"),
      Case("predict from an incomplete folder", ["predict", "--checkpoint", "no-config.json", "--data", "pairs.jsonl"],
        "is a directory, not a complete model folder"),
      Case("--tensorboard under a file", ["fit", "--data", "pairs.jsonl", "--hidden", "4", "--steps", "1", "--checkpoint", "tb.safetensors",
        "--tensorboard", "text.txt/tb"], "cannot create the TensorBoard directory"),
    ], in: folder)
    // Nothing half-written stays behind: no ONNX file, no partial folders.
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
    #expect(!names.contains("out.onnx") && !names.contains("out"))
    #expect(!names.contains { $0.contains(".partial-") || $0.contains(".old-") }, "\(names)")
  }
}

import Foundation
import Testing

@testable import Recur

/// `recur train` with the AWD-LSTM regularizers: the checkpoint records them, a stopped run resumes bitwise
/// with the same masks, and out-of-range or conflicting probabilities are refused with one line.
@Suite("Command line/regularizers of recur train")
struct RegularizationCommandTests {
  typealias Folder = LanguageModelCommandTests.Folder

  static let regularizers = [
    "--weight-drop", "0.3", "--hidden-dropout", "0.2", "--embedding-dropout", "0.1", "--input-dropout", "0.15",
    "--output-dropout", "0.25",
  ]

  @Test("the checkpoint carries model.weight_drop and the others; stopped at k and resumed to N equals N straight")
  func metadataAndResume() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", LanguageModelCommandTests.text)
    let common = ["--text", text, "--validate-every", "4"] + Self.regularizers + LanguageModelCommandTests.small
    try LanguageModelCommandTests.train(common + ["--steps", "8", "--checkpoint", folder.path("straight.safetensors")])
    try LanguageModelCommandTests.train(common + ["--steps", "5", "--checkpoint", folder.path("stopped.safetensors")])
    let stopped = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("stopped.safetensors")))
    try LanguageModelCommandTests.train(["--text", text, "--resume", folder.path("stopped.safetensors"), "--steps", "8",
      "--quiet", "--checkpoint", folder.path("resumed.safetensors")])
    let straight = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("straight.safetensors")))
    let resumed = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("resumed.safetensors")))

    // The file's own metadata (what PyTorch-side readers see).
    let straightMeta = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: folder.path("straight.safetensors"))).metadata
    let resumedMeta = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: folder.path("resumed.safetensors"))).metadata
    for (key, value) in [("model.weight_drop", "0.3"), ("model.hidden_dropout", "0.2"), ("model.embedding_dropout", "0.1"),
      ("model.input_dropout", "0.15"), ("model.output_dropout", "0.25"), ("model.dropout", "0.0")]
    {
      #expect(straightMeta[key] == value, "\(key): \(straightMeta[key] ?? "missing")")
      #expect(resumedMeta[key] == value, "resumed \(key): \(resumedMeta[key] ?? "missing")")
    }
    let want = Regularization(
      embeddingDropout: 0.1, inputDropout: 0.15, hiddenDropout: 0.2, outputDropout: 0.25, weightDrop: 0.3)
    #expect(straight.network.configuration.regularization == want)
    #expect(straight.network.configuration.dropout == 0)
    #expect(resumed.network.configuration.regularization == want)

    #expect(stopped.position?.step == 5 && resumed.position?.step == 8)
    #expect(straight.network != stopped.network)
    #expect(straight.network == resumed.network)
    #expect(straight.optimizerState == resumed.optimizerState)
    #expect(straight.position?.carriedState == resumed.position?.carriedState)
    #expect(straight.position?.dropoutGenerator == resumed.position?.dropoutGenerator)
  }

  @Test("the masks matter: the same run without them ends on other weights")
  func masksChangeTheRun() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", LanguageModelCommandTests.text)
    let common = ["--text", text, "--steps", "3"] + LanguageModelCommandTests.small
    try LanguageModelCommandTests.train(common + Self.regularizers + ["--checkpoint", folder.path("on.safetensors")])
    let none = ["--dropout", "0", "--input-dropout", "0", "--hidden-dropout", "0", "--output-dropout", "0", "--weight-drop", "0"]
    try LanguageModelCommandTests.train(common + none + ["--checkpoint", folder.path("off.safetensors")])
    let on = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("on.safetensors")))
    let off = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: folder.path("off.safetensors")))
    #expect(on.network.namedParameters.map(\.1) != off.network.namedParameters.map(\.1))
    let offMeta = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: folder.path("off.safetensors"))).metadata
    #expect(offMeta["model.weight_drop"] == nil && offMeta["model.dropout"] == "0.0")
  }

  @Test("bad probabilities and conflicting dropouts: one line, non-zero exit, no checkpoint")
  func badInput() throws {
    let folder = try Folder()
    let text = try folder.write("t.txt", LanguageModelCommandTests.text)
    let stopped = folder.path("stopped.safetensors")
    try LanguageModelCommandTests.train(
      ["--text", text, "--steps", "1", "--weight-drop", "0.3", "--checkpoint", stopped] + LanguageModelCommandTests.small)
    let cases: [([String], String)] = [
      (["--weight-drop", "1"], "--weight-drop must be in [0, 1), got 1.0"),
      (["--weight-drop=-0.1"], "--weight-drop must be in [0, 1)"),
      (["--hidden-dropout", "nan"], "--hidden-dropout must be in [0, 1)"),
      (["--embedding-dropout", "1.5"], "--embedding-dropout must be in [0, 1)"),
      (["--input-dropout", "1"], "--input-dropout must be in [0, 1)"),
      (["--output-dropout", "2"], "--output-dropout must be in [0, 1)"),
      (["--dropout", "0.2", "--hidden-dropout", "0.1"], "act on the same values"),
      (["--dropout", "0.2", "--input-dropout", "0.1"], "act on the same values"),
      (["--resume", stopped, "--weight-drop", "0.5"], "cannot change"),
    ]
    for (arguments, expected) in cases {
      let output = folder.path("x.safetensors")
      let message = try LanguageModelCommandTests.trainError(
        ["--text", text, "--steps", "1", "--checkpoint", output] + arguments + LanguageModelCommandTests.small, in: folder)
      #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "accepted")")
      #expect(!FileManager.default.fileExists(atPath: output), "\(arguments) wrote a checkpoint")
    }
  }
}

import Foundation
import Testing

@testable import Recur

/// Models trained in PyTorch and saved with `interop/recur_torch.save_for_recur` (fixtures written by
/// generate_interop_fixtures.py): Recur reads them as weights-only checkpoints, evaluates them to PyTorch's
/// loss, and takes PyTorch's SGD step, through the library and through `recur train`.
@Suite("PyTorch language models")
struct TorchLMTests {
  static let names = ["lstm", "gru", "rnn_tanh", "rnn_relu"].flatMap { cell in (1...3).map { "torch_lm_\(cell)_L\($0)" } }

  static func url(_ name: String, _ ext: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures"), "missing \(name).\(ext)")
  }

  static func text() throws -> [UInt8] { [UInt8](try Data(contentsOf: try url("interop_text", "txt"))) }

  /// Expects every parameter of `network` to equal the fixture's weights after the step, within 1e-4.
  static func expectExpectedWeights(_ network: RecurrentNetwork<Float>, _ expected: Fixture, _ name: String) throws {
    var compared = 0
    for (parameter, tensor) in network.namedParameters {
      let want: Tensor<Float> = try expected.tensor(parameter)
      expectClose(tensor.scalars, want.scalars, relativeTolerance: 1e-4, "\(name) \(parameter)")
      compared += 1
    }
    #expect(compared == network.namedParameters.count && compared >= 5)
  }

  @Test("a save_for_recur file loads as a weights-only checkpoint and evaluates to PyTorch's eval_loss", arguments: names)
  func evaluation(name: String) throws {
    let checkpoint = try Checkpoint<Float>(contentsOf: try Self.url(name, "safetensors"))
    #expect(checkpoint.optimizerState == nil && checkpoint.position == nil && checkpoint.options == nil)
    let vocabulary = try Vocabulary(metadata: checkpoint.metadata)
    let tokens = try vocabulary.encode(utf8: try Self.text())
    let expected = try Fixture(name + ".expected")
    let want: Tensor<Double> = try expected.tensor("eval_loss", as: Double.self)
    let got = try checkpoint.network.evaluateLanguageModel(on: tokens, chunkLength: 7)
    expectClose(got.natsPerToken, want.scalars[0], relativeTolerance: 1e-4, name)
    #expect(got.predictions == tokens.count - 1)
  }

  @Test("one SGD step from PyTorch's weights gives PyTorch's weights (library)", arguments: names)
  func sgdStep(name: String) throws {
    let checkpoint = try Checkpoint<Float>(contentsOf: try Self.url(name, "safetensors"))
    let expected = try Fixture(name + ".expected")
    let T = try expected.int("seq_len")
    let lr = try #require(Double(try expected.metadata("lr")))
    let tokens = try Vocabulary(metadata: checkpoint.metadata).encode(utf8: try Self.text())
    let data = try TextBatches<Float>.stream(tokens: Array(tokens.prefix(T + 1)), batchSize: 1, steps: T)
    let trainer = try Trainer(
      network: checkpoint.network, data: data,
      options: TrainerOptions(
        optimizer: .sgd(learningRate: lr), loss: .crossEntropy, reduction: .meanOverSteps,
        budget: TrainingBudget(steps: 1), divergenceFactor: nil))
    let report = try trainer.step()
    let sgdLoss: Tensor<Double> = try expected.tensor("sgd_loss", as: Double.self)
    expectClose(report.loss, sgdLoss.scalars[0], relativeTolerance: 1e-4, "\(name) loss")
    try Self.expectExpectedWeights(trainer.network, expected, name)
  }

  @Test("recur train --init C --steps 1 --optimizer sgd … takes PyTorch's step (command line)", arguments: names)
  func sgdStepCommand(name: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-torchlm-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("stepped.safetensors")
    let result = try RecurProcess.run([
      "train", "--text", try Self.url("interop_text", "txt").path, "--init", try Self.url(name, "safetensors").path,
      "--steps", "1", "--optimizer", "sgd", "--lr", "0.1", "--seq-len", "16", "--batch-size", "1", "--clip", "0",
      "--dropout", "0", "--schedule", "constant", "--checkpoint", output.path, "--quiet",
    ], in: folder)
    try #require(result.status == 0, "recur train: \(result.standardError)")
    let stepped = try Checkpoint<Float>(contentsOf: output)
    try Self.expectExpectedWeights(stepped.network, try Fixture(name + ".expected"), name)
    // The written checkpoint is a full Recur checkpoint of the run: vocabulary, mode and trainer state.
    #expect(stepped.metadata["text.mode"] == "stream")
    #expect(stepped.position?.step == 1)
  }
}

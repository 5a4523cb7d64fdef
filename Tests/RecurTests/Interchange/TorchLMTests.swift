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

  /// Expects the step every parameter took, after − before, to equal PyTorch's step (the fixture's weights
  /// after the step minus the same weights before), within `stepTolerance`. The step is compared rather than
  /// the weights after it: with lr = 0.1 the step is a small part of each weight, so a gradient wrong by 15 %
  /// would still leave the weights within 1e-4 of PyTorch's; each comparison also checks that a step off by
  /// 15 % would fail it.
  static func expectPyTorchStep(
    _ network: RecurrentNetwork<Float>, from before: RecurrentNetwork<Float>, _ expected: Fixture, _ name: String
  ) throws {
    var compared = 0
    let start = Dictionary(uniqueKeysWithValues: before.namedParameters.map { ($0.0, $0.1.scalars) })
    for (parameter, tensor) in network.namedParameters {
      let want: Tensor<Float> = try expected.tensor(parameter)
      let w0 = try #require(start[parameter])
      let step = zip(tensor.scalars, w0).map { Double($0) - Double($1) }
      let torchStep = zip(want.scalars, w0).map { Double($0) - Double($1) }
      guard torchStep.contains(where: { $0 != 0 }) else {
        #expect(step.allSatisfy { $0 == 0 }, "\(name) \(parameter): PyTorch left it, Recur moved it")
        continue
      }
      expectClose(step, torchStep, relativeTolerance: stepTolerance, "\(name) \(parameter) step")
      #expect(relativeError(step.map { $0 * 0.85 }, torchStep) > stepTolerance, "\(name) \(parameter): a 15 % error would pass")
      compared += 1
    }
    #expect(compared >= 5)
  }

  /// The steps agree to about 1e-5 (Float rounding of the weights they are taken from); 1e-4 leaves room for
  /// other CPUs and still fails a gradient off by 0.1 %.
  static let stepTolerance = 1e-4

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
    try Self.expectPyTorchStep(trainer.network, from: checkpoint.network, expected, name)
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
    let start = try Checkpoint<Float>(contentsOf: try Self.url(name, "safetensors")).network
    try Self.expectPyTorchStep(stepped.network, from: start, try Fixture(name + ".expected"), name)
    // The written checkpoint is a full Recur checkpoint of the run: vocabulary, mode and trainer state.
    #expect(stepped.metadata["text.mode"] == "stream")
    #expect(stepped.position?.step == 1)
  }
}

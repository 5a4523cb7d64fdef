import Foundation
import Testing

@testable import Recur

/// PyTorch → Recur for vector-sequence models: bidirectional models built and saved by
/// interop/recur_torch.py (RecurSequenceModel, save_sequence_model_for_recur) load as Recur checkpoints and give
/// PyTorch's outputs; fixtures made by Tests/RecurTests/Fixtures/generate_interop_sequence_fixtures.py. (Recur →
/// PyTorch: interop/check_sequence_model.py, run by .ci/run when PyTorch is installed.)
@Suite("Interchange of bidirectional sequence models with PyTorch")
struct SequenceModelInteropTests {
  @Test("a GRU read by its mean, one class per sequence")
  func perSequence() throws {
    let url = try #require(Bundle.module.url(forResource: "torch_bi_gru_mean", withExtension: "safetensors", subdirectory: "Fixtures"))
    let checkpoint = try Checkpoint<Float>(contentsOf: url)
    let net = checkpoint.network
    #expect(net.configuration.bidirectional && net.configuration.layers == 2)
    #expect(checkpoint.metadata["data.readout"] == "mean" && checkpoint.metadata["data.layout"] == "sequence")
    let expected = try Fixture("torch_bi_gru_mean.expected")
    let lengths = try expected.integers("lengths")
    let x: Tensor<Float> = try expected.tensor("input")
    let (B, T, I) = (x.shape[0], x.shape[1], x.shape[2])
    let batch = try SequenceBatch<Float>(
      steps: T, batchSize: B, lengths: lengths, inputs: .vectors(timeMajor(x.scalars, batch: B, steps: T, features: I), features: I),
      targets: .classes(Array(repeating: -1, count: T * B)))
    let g = try net.sequenceOutputs(for: batch, readout: .mean)
    expectClose(g.scalars, try expected.tensor("output").scalars, relativeTolerance: 1e-5)
  }

  @Test("an LSTM tagger, one class per step")
  func perStep() throws {
    let url = try #require(Bundle.module.url(forResource: "torch_bi_lstm_tagger", withExtension: "safetensors", subdirectory: "Fixtures"))
    let net = try Checkpoint<Float>(contentsOf: url).network
    let expected = try Fixture("torch_bi_lstm_tagger.expected")
    let lengths = try expected.integers("lengths")
    let x: Tensor<Float> = try expected.tensor("input")
    let (B, T, I) = (x.shape[0], x.shape[1], x.shape[2])
    let V = net.configuration.outputSize
    let batch = try SequenceBatch<Float>(
      steps: T, batchSize: B, lengths: lengths, inputs: .vectors(timeMajor(x.scalars, batch: B, steps: T, features: I), features: I),
      targets: .classes(Array(repeating: -1, count: T * B)))
    let g = try net.outputs(for: batch).outputs.scalars
    let want = timeMajor(try expected.tensor("output").scalars, batch: B, steps: T, features: V)
    var ours: [Float] = [], theirs: [Float] = []
    for t in 0..<T {
      for b in 0..<B where t < lengths[b] {
        ours += g[((t * B + b) * V)..<((t * B + b) * V + V)]
        theirs += want[((t * B + b) * V)..<((t * B + b) * V + V)]
      }
    }
    expectClose(ours, theirs, relativeTolerance: 1e-5)
  }

  @Test("a bidirectional Recur checkpoint has PyTorch's tensor names and shapes, and reads back the same")
  func recurWrites() throws {
    let net = try RecurrentNetwork<Float>(
      .init(cell: .gru, inputSize: 3, hiddenSize: 4, layers: 2, outputSize: 3, outputActivation: .softmax, bidirectional: true), seed: 3)
    let folder = try ScratchFolder("recur-bi-checkpoint")
    let url = folder.url.appendingPathComponent("m.safetensors")
    try Checkpoint(network: net).write(to: url)
    let back = try Checkpoint<Float>(contentsOf: url)
    #expect(back.network == net)
    let torchFile = try Fixture("torch_bi_gru_mean").file
    let ours = try SafeTensorsFile(contentsOf: url)
    #expect(ours.names.sorted() == torchFile.names.sorted())
    for name in torchFile.names {
      #expect(ours.entry(named: name)?.shape == torchFile.entry(named: name)?.shape, "\(name)")
    }
    #expect(ours.metadata["model.bidirectional"] == "true")
  }
}

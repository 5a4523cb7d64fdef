import Foundation
import Testing

@testable import Recur

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Checkpoints")
struct CheckpointTests {
  /// A checkpoint of a trained language model with optimizer state, position, carried state and metadata.
  static func trainedCheckpoint() throws -> Checkpoint<Float> {
    let data = try TextBatches<Float>.stream(
      tokens: TrainerTests.stream(count: 121, vocabulary: 7, seed: 1), batchSize: 3, steps: 4)
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 1), data: data,
      options: TrainerTests.options(steps: 3))
    trainer.metadata = ["vocabulary.kind": "characters", "vocabulary.tokens": "[\"a\",\"b\"]"]
    try trainer.run()
    return trainer.checkpoint()
  }

  @Test("round trip: model, optimizer state, position, options, carried state and metadata")
  func roundTrip() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("c.safetensors")
    let original = try Self.trainedCheckpoint()
    try original.write(to: url)
    let loaded = try Checkpoint<Float>(contentsOf: url)
    #expect(loaded.network == original.network)
    #expect(loaded.optimizerState == original.optimizerState)
    #expect(loaded.optimizerState?.step == 3)
    #expect(loaded.position == original.position)
    #expect(loaded.position?.carriedState != nil)
    #expect(loaded.options == original.options)
    #expect(loaded.metadata == original.metadata)

    // The recur-lm-1 contract.
    let file = try SafeTensorsFile(contentsOf: url)
    let meta = file.metadata
    #expect(meta["format"] == "recur-lm-1")
    #expect(meta["model.cell"] == "lstm")
    #expect(meta["model.vocab_size"] == "7")
    #expect(meta["model.embedding_size"] == "5")
    #expect(meta["model.hidden_size"] == "6")
    #expect(meta["model.num_layers"] == "2")
    #expect(meta["model.dropout"] == "0.25")
    #expect(meta["model.output_size"] == nil)
    #expect(meta["vocabulary.kind"] == "characters")
    #expect(file.entry(named: "rnn.weight_ih_l0")?.dtype == .float32)
    #expect(file.entry(named: "recur.optimizer.exp_avg.rnn.weight_ih_l0")?.shape == [24, 5])
    #expect(file.entry(named: "recur.trainer.state.c_l1")?.shape == [3, 6])
    #expect(meta.keys.allSatisfy { ["format", "vocabulary.kind", "vocabulary.tokens"].contains($0) || $0.hasPrefix("model.") || $0.hasPrefix("recur.") })
    #expect(file.names.allSatisfy { $0.hasPrefix("recur.") || original.network.namedParameters.map(\.name).contains($0) })
  }

  @Test("a vector-input model's metadata and a model-only checkpoint")
  func vectorModel() throws {
    let config = RecurrentNetwork<Double>.Configuration(
      cell: .gated(.relu), inputSize: 3, hiddenSize: 4, layers: 1, outputSize: 2, outputActivation: .sigmoid)
    let net = try RecurrentNetwork<Double>(config, seed: 4)
    let file = try Checkpoint(network: net).safeTensorsFile()
    #expect(file.metadata["model.cell"] == "gated_relu")
    #expect(file.metadata["model.input_size"] == "3")
    #expect(file.metadata["model.output_size"] == "2")
    #expect(file.metadata["model.output_activation"] == "sigmoid")
    #expect(file.metadata["model.vocab_size"] == nil)
    let back = try Checkpoint<Double>(SafeTensorsFile(serialized: file.serialized()))
    #expect(back.network == net)
    #expect(back.optimizerState == nil && back.position == nil && back.options == nil)
  }

  /// The checkpoint's file with one change.
  static func altered(_ change: (inout SafeTensorsFile) throws -> Void) throws -> SafeTensorsFile {
    let net = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 2)
    var file = try Checkpoint(network: net, optimizerState: OptimizerState()).safeTensorsFile()
    try change(&file)
    return try SafeTensorsFile(serialized: file.serialized())
  }

  @Test("loading validates the configuration against the tensors and names the problem")
  func validation() throws {
    func message(_ change: (inout SafeTensorsFile) throws -> Void) throws -> String {
      let file = try Self.altered(change)
      do {
        _ = try Checkpoint<Float>(file)
        return "no error"
      } catch let error as CheckpointError {
        return error.message
      }
    }
    #expect(try message { $0.metadata["model.hidden_size"] = "7" }.contains("tensor 'rnn.weight_ih_l0' has shape [24, 5]"))
    #expect(try message { $0.metadata["model.num_layers"] = "3" } == "tensor 'rnn.weight_ih_l2' is missing (the metadata describe a 3-layer lstm with H = 6)")
    #expect(try message { $0.metadata["model.num_layers"] = "1" } == "unexpected tensor 'rnn.bias_hh_l1' for a 1-layer lstm with H = 6")
    #expect(try message { $0.metadata["model.cell"] = "transformer" } == "metadata 'model.cell' is 'transformer', not a known cell")
    #expect(try message { $0.metadata["model.cell"] = "gru" }.contains("has shape [24, 5]"))
    #expect(try message { $0.metadata["format"] = "other" } == "format is 'other', expected 'recur-lm-1'")
    #expect(try message { $0.metadata["model.embedding_size"] = "five" } == "metadata 'model.embedding_size' is 'five', not an integer")
    #expect(try message { $0.metadata["model.dropout"] = "1.5" }.contains("dropout must be in [0, 1)"))
    #expect(try message { $0.metadata["model.hidden_size"] = nil } == "metadata 'model.hidden_size' is missing")
    #expect(
      try message {
        try $0.add(Tensor<Float>(shape: [2]), named: "recur.optimizer.exp_avg.head.bias")
      } == "optimizer tensor 'recur.optimizer.exp_avg.head.bias' has shape [2], its parameter [7]")
    #expect(
      try message {
        _ = $0.removeEntry(named: "head.bias")
        try $0.add(integers: [1, 2, 3, 4, 5, 6, 7], named: "head.bias")
      } == "tensor 'head.bias' is not a floating-point tensor")
    // The unaltered file loads.
    #expect(try message { _ in } == "no error")
  }

  @Test("a malformed file is a safetensors error, never a crash")
  func malformed() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("bad.safetensors")
    var bytes = try Self.altered { _ in }.serialized()
    bytes.removeLast(5)
    try bytes.write(to: url)
    #expect(throws: SafeTensorsError.self) { try Checkpoint<Float>(contentsOf: url) }
  }

  @Test("SIGINT sets the stop flag instead of ending the process")
  func interrupt() async throws {
    let flag = StopFlag()
    let handler = flag.handleInterrupts()
    defer { handler.cancel() }
    // To the process (the test thread itself may block SIGINT; another thread takes it).
    kill(getpid(), SIGINT)
    for _ in 0..<200 where !flag.isStopRequested { try await Task.sleep(nanoseconds: 10_000_000) }
    #expect(flag.isStopRequested)
  }
}

@Suite("Training data")
struct TrainingDataTests {
  @Test("text streams as training data: B contiguous streams, chunks of T, targets shifted by one")
  func streams() throws {
    let tokens = (0..<23).map { Int32($0) }
    var data = try TextBatches<Float>.stream(tokens: tokens, batchSize: 2, steps: 3)
    guard case .stream(let streams) = data.source else { Issue.record("not a stream source"); return }
    #expect(streams.streamLength == 11)
    #expect(data.batchesPerEpoch == 3)
    #expect(data.mode == .stream)
    let first = try data.nextBatch()
    #expect(!first.continuesPrevious)
    // Time-major: step t of stream b at t·B + b; stream 1 starts at token 11.
    #expect(first.batch.inputs == .tokens([0, 11, 1, 12, 2, 13]))
    #expect(first.batch.targets == .classes([1, 12, 2, 13, 3, 14]))
    #expect(try data.nextBatch().continuesPrevious)
    _ = try data.nextBatch()
    #expect(data.position.epoch == 1 && data.position.batchIndex == 0)
    #expect(try !data.nextBatch().continuesPrevious)
    #expect(throws: TextError.self) { try TextBatches<Float>.stream(tokens: tokens, batchSize: 4, steps: 6) }
    // A restored position continues mid-pass, with the state carried.
    try data.restore(DataPosition(epoch: 5, batchIndex: 2, generator: SeededGenerator(seed: 1)))
    #expect(data.position.epoch == 5 && data.position.batchIndex == 2)
    let third = try data.nextBatch()
    #expect(third.continuesPrevious)
    #expect(third.batch.inputs == .tokens([6, 17, 7, 18, 8, 19]))
    #expect(throws: TrainingDataError.self) {
      try data.restore(DataPosition(epoch: 0, batchIndex: 3, generator: SeededGenerator(seed: 1)))
    }
  }

  @Test("shuffled pairs: every pair once per pass, a new order each pass, restored positions repeat exactly")
  func pairs() throws {
    let x = (0..<10).map { [$0] }
    var data = try SequencePairs<Float>(.tokens(inputs: x, targets: x), batchSize: 3, seed: 3)
    #expect(data.batchesPerEpoch == 4)
    func firstTokens(_ b: TrainingBatch<Float>) -> [Int32] {
      guard case .tokens(let t) = b.batch.inputs else { return [] }
      return t
    }
    var passes: [[Int32]] = [[], []]
    var saved: DataPosition?
    var afterSaved: [[Int32]] = []
    for pass in 0..<2 {
      for k in 0..<4 {
        if pass == 0 && k == 2 { saved = data.position }
        let tokens = firstTokens(try data.nextBatch())
        if saved != nil { afterSaved.append(tokens) }
        passes[pass] += tokens
      }
    }
    #expect(passes[0].sorted() == (0..<10).map { Int32($0) })
    #expect(passes[1].sorted() == (0..<10).map { Int32($0) })
    #expect(passes[0] != passes[1])
    var restored = try SequencePairs<Float>(.tokens(inputs: x, targets: x), batchSize: 3, seed: 999)
    try restored.restore(try #require(saved))
    let replay = try (0..<afterSaved.count).map { _ in firstTokens(try restored.nextBatch()) }
    #expect(replay == afterSaved)
  }
}

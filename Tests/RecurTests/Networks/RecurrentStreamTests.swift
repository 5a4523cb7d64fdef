import Foundation
import Testing

@testable import Recur

@Suite("Live streams")
struct RecurrentStreamTests {
  @Test("a stream's outputs and state equal the batched pass over the same steps, every cell and head", arguments: GradientCheckTests.cells)
  func equalsBatched(cell: CellKind) throws {
    for (V, activation) in [(3, OutputActivation.softmax), (2, .identity), (1, .sigmoid), (2, .tanh)] {
      let net = try RecurrentNetwork<Float>(
        .init(cell: cell, inputSize: 2, hiddenSize: 5, layers: 2, outputSize: V, outputActivation: activation), seed: 6)
      var rng = SeededGenerator(seed: 9)
      let xs: [[Float]] = (0..<7).map { _ in [Float(rng.nextNormal()), Float(rng.nextNormal())] }
      let batched = try net.outputs(for: try SequenceBatch<Float>(inputs: [xs], targets: [xs.map { _ in [Float](repeating: 0, count: V) }]))
      let stream = try RecurrentStream(network: net)
      var ours: [Float] = []
      for x in xs { ours += try stream.step(x) }
      expectClose(ours, batched.outputs.scalars, relativeTolerance: 1e-6, "\(cell) \(activation)")
      expectClose(stream.state.h.flatMap(\.scalars) + stream.state.c.flatMap(\.scalars),
        batched.finalState.h.flatMap(\.scalars) + batched.finalState.c.flatMap(\.scalars), relativeTolerance: 1e-6)
      #expect(stream.steps == 7)
      stream.reset()
      #expect(stream.steps == 0 && stream.state == net.zeroState(batch: 1))
      try stream.step(xs[0])
      expectClose(stream.output, Array(batched.outputs.scalars[0..<V]), relativeTolerance: 1e-6)
    }
  }

  @Test("refused: bidirectional and token models; bad steps")
  func refused() throws {
    #expect(throws: ModelError.self) {
      try RecurrentStream(network: try RecurrentNetwork<Float>(.init(cell: .gru, inputSize: 1, hiddenSize: 2, outputSize: 1, bidirectional: true)))
    }
    #expect(throws: ModelError.self) {
      try RecurrentStream(network: try RecurrentNetwork<Float>(.languageModel(cell: .gru, vocabularySize: 5, embeddingSize: 2, hiddenSize: 2, layers: 1)))
    }
    let stream = try RecurrentStream(network: try RecurrentNetwork<Float>(.init(cell: .lstm, inputSize: 2, hiddenSize: 2, outputSize: 1)))
    #expect(throws: ModelError.self) { try stream.step([1]) }
    #expect(throws: ModelError.self) { try stream.step([1, .nan]) }
    #expect(stream.steps == 0)
  }

  @Test("recur predict --stream through a pipe: one flushed line per line, a state per id, reset, end, bad lines")
  func pipe() throws {
    let folder = try ScratchFolder("recur-stream")
    try folder.write("v.jsonl", Array(String(repeating: "{\"x\": [[1, 2], [3, 4], [0, 1]], \"y\": [0, 1, 2]}\n", count: 6).utf8))
    let fit = try RecurProcess.run(["fit", "--data", "v.jsonl", "--hidden", "4", "--steps", "3", "--checkpoint", "m.safetensors"], in: folder.url)
    try #require(fit.status == 0, "\(fit.standardError)")
    let network = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("m.safetensors")).network

    let process = Process(), input = Pipe(), output = Pipe()
    process.executableURL = RecurProcess.executable
    process.arguments = ["predict", "--checkpoint", "m.safetensors", "--stream"]
    process.currentDirectoryURL = folder.url
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Reads one answer line; a line that is not flushed at once would time out here.
    nonisolated(unsafe) var pending = Data()
    func answer(to line: String) throws -> [String: Any] {
      input.fileHandleForWriting.write(Data((line + "\n").utf8))
      let deadline = Date().addingTimeInterval(20)
      while !pending.contains(UInt8(ascii: "\n")) {
        guard Date() < deadline else { throw ModelError("no answer within 20 s to \(line)") }
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        pending += chunk
      }
      let end = try #require(pending.firstIndex(of: UInt8(ascii: "\n")))
      let text = pending[pending.startIndex..<end]
      pending = Data(pending[(end + 1)...])
      return try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
    }
    let a1 = try answer(to: #"{"id": "a", "x": [1, 2]}"#)
    let b1 = try answer(to: #"{"id": "b", "x": [0, 1]}"#)
    let bad = try answer(to: #"{"id": "a", "x": [1]}"#)
    let junk = try answer(to: "not json")
    let a2 = try answer(to: #"{"id": "a", "x": [3, 4]}"#)
    let reset = try answer(to: #"{"id": "a", "reset": true}"#)
    let a3 = try answer(to: #"{"id": "a", "x": [1, 2]}"#)
    let end = try answer(to: #"{"id": "b", "end": true}"#)
    input.fileHandleForWriting.closeFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)

    let reference = try RecurrentStream(network: network)
    let p1 = try reference.step([1, 2]), p2 = try reference.step([3, 4])
    let other = try RecurrentStream(network: network)
    let q1 = try other.step([0, 1])
    func probabilities(_ o: [String: Any]) -> [Double] { (o["p"] as? [Double]) ?? [] }
    #expect(a1["id"] as? String == "a" && a1["t"] as? Int == 1)
    expectClose(probabilities(a1), p1, relativeTolerance: 1e-6)
    expectClose(probabilities(b1), q1, relativeTolerance: 1e-6)
    #expect(bad["line"] as? Int == 3 && (bad["error"] as? String ?? "").contains("has 1 features but the network reads 2"))
    #expect(junk["line"] as? Int == 4 && junk["error"] != nil)
    #expect(a2["t"] as? Int == 2)
    expectClose(probabilities(a2), p2, relativeTolerance: 1e-6)
    #expect(reset["reset"] as? Bool == true)
    #expect(a3["t"] as? Int == 1)
    expectClose(probabilities(a3), p1, relativeTolerance: 1e-6)
    #expect(end["end"] as? Bool == true && end["steps"] as? Int == 1)
  }
}

import Foundation
import Recur
import Testing

@testable import RecurExport

@Suite("Export/TensorBoard event files")
struct TensorBoardTests {
  /// The records of an event file, each record's two checksums verified.
  static func records(_ data: Data) throws -> [Data] {
    let bytes = [UInt8](data)
    var records: [Data] = [], offset = 0
    func word<T: FixedWidthInteger>(_ type: T.Type, at i: Int) -> T {
      (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(bytes[i + $1]) << (8 * $1) }
    }
    while offset < bytes.count {
      try #require(offset + 12 <= bytes.count, "a record header is cut short")
      let length = Int(word(UInt64.self, at: offset))
      #expect(word(UInt32.self, at: offset + 8) == CRC32C.masked(CRC32C.checksum(bytes[offset..<(offset + 8)])))
      let start = offset + 12
      try #require(start + length + 4 <= bytes.count, "a record is cut short")
      let body = bytes[start..<(start + length)]
      #expect(word(UInt32.self, at: start + length) == CRC32C.masked(CRC32C.checksum(body)))
      records.append(Data(body))
      offset = start + length + 4
    }
    return records
  }

  @Test("records are framed with masked CRC-32C and hold the file version, scalars and text")
  func writesEvents() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-tb-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let writer = try TensorBoardWriter(directory: folder, wallTime: Date(timeIntervalSince1970: 1_700_000_000), host: "test")
    #expect(writer.url.lastPathComponent == "events.out.tfevents.1700000000.test")
    try writer.scalar("loss/train", 2.5, step: 1)
    try writer.scalars([("learning_rate", 0.003), ("gradient_norm", 1.25)], step: 2)
    try writer.text("samples", "the cat", step: 2)
    // Read while the writer is still open: every call's record is already in the file.
    let events = try Self.records(try Data(contentsOf: writer.url)).map { try Tensorboard_Event(serializedBytes: $0) }
    try #require(events.count == 4)
    #expect(events[0].fileVersion == "brain.Event:2")
    #expect(events[1].step == 1 && events[1].summary.value[0].tag == "loss/train")
    #expect(events[1].summary.value[0].simpleValue == 2.5)
    #expect(events[2].summary.value.map(\.tag) == ["learning_rate", "gradient_norm"])
    #expect(events[2].summary.value.map(\.simpleValue) == [Float(0.003), 1.25])
    let text = events[3].summary.value[0]
    #expect(text.metadata.pluginData.pluginName == "text")
    #expect(text.tensor.dtype == .dtString && text.tensor.stringVal == [Data("the cat".utf8)])
  }

  @Test("a training run logs every step's scalars and its options")
  func logsTraining() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-tb-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let network = try RecurrentNetwork<Float>(.init(cell: .gru, inputSize: 2, hiddenSize: 3, outputSize: 1))
    let data = try SequencePairs<Float>(.vectors(inputs: [[[1, 0], [0, 1]]], targets: [[[1], [0]]]), batchSize: 1, seed: 1)
    let options = TrainerOptions(optimizer: .sgd(learningRate: 0.1), loss: .squaredError, budget: TrainingBudget(steps: 3), seed: 1)
    let trainer = try Trainer(network: network, data: data, options: options)
    let log = try TensorBoardLog(directory: folder, command: ["recur", "fit", "--data", "a b.jsonl"], options: options)
    log.attach(to: trainer)
    try trainer.run()
    try log.finish()
    let events = try Self.records(try Data(contentsOf: log.writer.url)).map { try Tensorboard_Event(serializedBytes: $0) }
    let texts = events.flatMap(\.summary.value).filter { $0.metadata.pluginData.pluginName == "text" }
    #expect(texts.map(\.tag) == ["run/command", "run/options"])
    #expect(String(decoding: texts[0].tensor.stringVal[0], as: UTF8.self) == "    recur fit --data 'a b.jsonl'")
    let steps = events.filter { $0.summary.value.contains { $0.tag == "loss/train" } }.map(\.step)
    #expect(steps == [1, 2, 3])
    let tags = Set(events.flatMap(\.summary.value).map(\.tag))
    #expect(tags.isSuperset(of: ["learning_rate", "gradient_norm", "tokens_per_second"]))
  }
}

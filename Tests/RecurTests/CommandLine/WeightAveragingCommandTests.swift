import Foundation
import Testing

import Recur

/// `recur train --average` keeps θ̄ in its checkpoint; `recur export` writes θ̄ by default and says so, and
/// `--weights raw` takes θ.
@Suite("Command line/weight averaging")
struct WeightAveragingCommandTests {
  static func bits(_ network: RecurrentNetwork<Float>) -> [[UInt32]] {
    network.namedParameters.map { $0.tensor.scalars.map(\.bitPattern) }
  }

  @Test("train --average ema keeps θ̄; export --folder writes it (or θ with --weights raw) and names it in the metadata and card")
  func exportAveraged() throws {
    let folder = try ScratchFolder("recur-average")
    try folder.write("text.txt", Array(String(repeating: "to be or not to be, that is the question. ", count: 20).utf8))
    let train = try RecurProcess.run(
      ["train", "--text", "text.txt", "--hidden", "8", "--embedding", "4", "--layers", "1", "--batch-size", "2",
       "--seq-len", "8", "--steps", "6", "--quiet", "--checkpoint", "lm.safetensors",
       "--average", "ema", "--average-decay", "0.5", "--average-start", "2"], in: folder.url)
    try #require(train.status == 0, "\(train.standardError)")
    let checkpoint = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("lm.safetensors"))
    let average = try #require(checkpoint.average)
    #expect(average.averaging == .exponential(decay: 0.5, start: 2))
    #expect(average.count == 4)
    #expect(Self.bits(average.network) != Self.bits(checkpoint.network))

    let export = try RecurProcess.run(
      ["export", "--checkpoint", "lm.safetensors", "--folder", "model", "--sample-length", "0"], in: folder.url)
    try #require(export.status == 0, "\(export.standardError)")
    let line = "exponential moving average, decay 0.5, from step 2, 4 steps averaged"
    #expect(export.standardOutput.contains("weights: \(line)"))
    let model = folder.url.appendingPathComponent("model/model.safetensors")
    let exported = try Checkpoint<Float>(contentsOf: model)
    #expect(Self.bits(exported.network) == Self.bits(average.network))
    #expect(exported.average == nil && exported.optimizerState == nil)
    #expect(try SafeTensorsFile(contentsOf: model).metadata["weights"] == line)
    let card = try String(contentsOf: folder.url.appendingPathComponent("model/README.md"), encoding: .utf8)
    #expect(card.contains("- Weights: \(line)"))

    let raw = try RecurProcess.run(
      ["export", "--checkpoint", "lm.safetensors", "--folder", "raw", "--sample-length", "0", "--weights", "raw"],
      in: folder.url)
    try #require(raw.status == 0, "\(raw.standardError)")
    let rawModel = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("raw/model.safetensors"))
    #expect(Self.bits(rawModel.network) == Self.bits(checkpoint.network))
    #expect(rawModel.metadata["weights"]?.hasPrefix("raw weights") == true)

    let changed = try RecurProcess.run(
      ["train", "--text", "text.txt", "--resume", "lm.safetensors", "--steps", "8", "--average", "uniform",
       "--checkpoint", "lm.safetensors"], in: folder.url)
    #expect(changed.status != 0)
    #expect(changed.standardError.contains(
      "the stopped run averaged with --average ema --average-decay 0.5 --average-start 2; a resumed run keeps its averaging"))
    let resumed = try RecurProcess.run(
      ["train", "--text", "text.txt", "--resume", "lm.safetensors", "--steps", "8", "--quiet", "--checkpoint", "lm.safetensors"],
      in: folder.url)
    try #require(resumed.status == 0, "\(resumed.standardError)")
    #expect(try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("lm.safetensors")).average?.count == 6)

    let bad = try RecurProcess.run(
      ["train", "--text", "text.txt", "--steps", "1", "--average-decay", "0.5", "--checkpoint", "x.safetensors"], in: folder.url)
    #expect(bad.status != 0)
    #expect(bad.standardError.contains("--average-decay and --average-start need --average ema or uniform"))
  }
}

import Foundation
import Testing

@testable import Recur

/// `recur fit` reports metrics on its validation part; `recur eval --data` on any labelled file, the same figures.
@Suite("Metrics on the command line")
struct MetricsCommandTests {
  @Test("fit prints the validation metrics; eval --data prints, writes CSV and SVG, and agrees with the library")
  func fitThenEval() throws {
    let folder = try ScratchFolder("recur-metrics")
    var rng = SeededGenerator(seed: 5)
    var lines: [String] = []
    for _ in 0..<30 {
      let n = 2 + Int(rng.next() % 4)
      let x = (0..<n).map { _ in [rng.nextUnit(), rng.nextUnit()] }
      let y = x.map { $0[0] > 0.5 ? 1 : ($0[1] > 0.5 ? 2 : 0) }
      lines.append("{\"x\": \(x), \"y\": \(y)}")
    }
    let data = try folder.write("pairs.jsonl", Array(lines.joined(separator: "\n").utf8))
    let fit = try RecurProcess.run(
      ["fit", "--data", "pairs.jsonl", "--hidden", "6", "--steps", "5", "--checkpoint", "m.safetensors",
       "--confusion-csv", "fit.csv"], in: folder.url)
    try #require(fit.status == 0, "\(fit.standardError)")
    #expect(fit.standardOutput.contains("metrics on the validation sequences (3):"))
    #expect(fit.standardOutput.contains("macro-F1"))
    #expect(fit.standardOutput.contains("confusion matrix written to fit.csv"))

    let eval = try RecurProcess.run(
      ["eval", "--checkpoint", "m.safetensors", "--data", "pairs.jsonl", "--confusion-csv", "c.csv",
       "--confusion-svg", "c.svg"], in: folder.url)
    try #require(eval.status == 0, "\(eval.standardError)")
    let network = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("m.safetensors")).network
    let dataset = try SequenceDataset.load(contentsOf: URL(fileURLWithPath: data))
    guard case .classification(let m) = try dataset.metrics(of: network) else {
      Issue.record("expected a classification")
      return
    }
    #expect(eval.standardOutput.contains(m.report()))
    #expect(try String(contentsOfFile: folder.path("c.csv"), encoding: .utf8) == m.csv())
    #expect(try String(contentsOfFile: folder.path("c.svg"), encoding: .utf8) == m.heatMap(title: "recur eval: pairs.jsonl"))

    let json = try RecurProcess.run(["eval", "--checkpoint", "m.safetensors", "--data", "pairs.jsonl", "--json"], in: folder.url)
    try #require(json.status == 0, "\(json.standardError)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(abs((object["accuracy"] as? Double ?? -1) - m.accuracy) < 1e-12)
    #expect(object["confusion_matrix"] as? [[Int]] == (0..<3).map { k in (0..<3).map { m[k, $0] } })
  }

  @Test("real targets: MSE, MAE and R²")
  func regression() throws {
    let folder = try ScratchFolder("recur-metrics-values")
    try folder.write("v.jsonl", Array(String(repeating: "{\"x\": [[1, 2], [3, 4]], \"y\": [[1], [0]]}\n", count: 4).utf8))
    let fit = try RecurProcess.run(["fit", "--data", "v.jsonl", "--hidden", "3", "--steps", "2", "--checkpoint", "m.safetensors"], in: folder.url)
    try #require(fit.status == 0, "\(fit.standardError)")
    #expect(fit.standardOutput.contains("metrics on the training sequences (4):"))
    let eval = try RecurProcess.run(["eval", "--checkpoint", "m.safetensors", "--data", "v.jsonl"], in: folder.url)
    try #require(eval.status == 0, "\(eval.standardError)")
    #expect(eval.standardOutput.contains("MSE ") && eval.standardOutput.contains("R² "))
    #expect(eval.standardOutput.contains("(8 examples of 1 output)"))
  }
}

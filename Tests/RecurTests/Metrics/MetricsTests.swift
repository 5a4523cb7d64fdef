import Foundation
import Testing

@testable import Recur

@Suite("Classification metrics")
struct ClassificationMetricsTests {
  /// Targets 0 0 1 1 2 2 2 predicted as 0 1 1 1 2 0 2: rows (targets) [1 1 0], [0 2 0], [1 0 2].
  static func sample(classCount: Int? = nil) throws -> ConfusionMatrix {
    try ConfusionMatrix(targets: [0, 0, 1, 1, 2, 2, 2], predictions: [0, 1, 1, 1, 2, 0, 2], classCount: classCount)
  }

  @Test("counts, accuracy, precision, recall, F1 and macro-F1 by hand")
  func handComputed() throws {
    let m = try Self.sample()
    #expect(m.classCount == 3)
    #expect(m.counts == [1, 1, 0, 0, 2, 0, 1, 0, 2])
    #expect(m[2, 0] == 1 && m.support(2) == 3 && m.predicted(1) == 3 && m.total == 7)
    expectClose(m.accuracy, 5.0 / 7, relativeTolerance: 1e-15)
    expectClose([m.precision(0), m.precision(1), m.precision(2)], [0.5, 2.0 / 3, 1], relativeTolerance: 1e-15)
    expectClose([m.recall(0), m.recall(1), m.recall(2)], [0.5, 1, 2.0 / 3], relativeTolerance: 1e-15)
    // F1 = 2PR/(P+R): 0.5; (4/3)/(5/3) = 0.8; (4/3)/(5/3) = 0.8.
    expectClose([m.f1(0), m.f1(1), m.f1(2)], [0.5, 0.8, 0.8], relativeTolerance: 1e-15)
    expectClose(m.macroF1, 0.7, relativeTolerance: 1e-15)
  }

  @Test("a class never seen nor predicted scores 0 and counts in macro-F1")
  func absentClass() throws {
    let m = try Self.sample(classCount: 4)
    #expect(m.precision(3) == 0 && m.recall(3) == 0 && m.f1(3) == 0 && m.support(3) == 0)
    expectClose(m.macroF1, 2.1 / 4, relativeTolerance: 1e-15)
    expectClose(m.accuracy, 5.0 / 7, relativeTolerance: 1e-15)
  }

  @Test("bad pairs are refused")
  func badInput() {
    #expect(throws: ModelError.self) { try ConfusionMatrix(targets: [0, 1], predictions: [0]) }
    #expect(throws: ModelError.self) { try ConfusionMatrix(targets: [0, 3], predictions: [0, 1], classCount: 3) }
    #expect(throws: ModelError.self) { try ConfusionMatrix(targets: [0, -1], predictions: [0, 1]) }
  }

  @Test("CSV: header of class names, one row of counts per target class")
  func csv() throws {
    let m = try Self.sample()
    #expect(m.csv() == "target,0,1,2\n0,1,1,0\n1,0,2,0\n2,1,0,2\n")
    #expect(m.csv(labels: ["a", "b,c", "d\"e"]) == "target,a,\"b,c\",\"d\"\"e\"\na,1,1,0\n\"b,c\",0,2,0\n\"d\"\"e\",1,0,2\n")
  }

  @Test("printed report: the figures and the matrix")
  func report() throws {
    let text = try Self.sample().report()
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines[0] == "accuracy 0.7143  macro-F1 0.7000  (7 examples)")
    #expect(lines[2].hasSuffix("0.5000     0.5000     0.5000          2"))
    #expect(lines[3].hasSuffix("0.6667     1.0000     0.8000          2"))
    #expect(lines.suffix(3).map { $0.split(separator: " ").map(String.init) } == [
      ["0", "1", "1", "0"], ["1", "0", "2", "0"], ["2", "1", "0", "2"],
    ])
  }

  @Test("SVG heat map: deterministic, one square per pair, counts and escaped names")
  func heatMap() throws {
    let m = try Self.sample()
    let a = m.heatMap(title: "digits <test>", labels: ["x&y", "b", "c"])
    #expect(a == m.heatMap(title: "digits <test>", labels: ["x&y", "b", "c"]))
    #expect(a.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && a.hasSuffix("</svg>\n"))
    #expect(a.components(separatedBy: "<rect ").count - 1 == 1 + 9)
    #expect(a.contains("digits &lt;test&gt;") && a.contains(">x&amp;y</text>") && !a.contains("<test>"))
    // Row 1 is all on its diagonal: the darkest shade; an empty pair stays white.
    #expect(a.contains("fill=\"#08306b\""))
    #expect(a.components(separatedBy: "fill=\"#ffffff\"").count - 1 == 4)
  }
}

@Suite("Regression metrics")
struct RegressionMetricsTests {
  @Test("MSE, MAE and R² by hand, two outputs")
  func handComputed() throws {
    // Residuals g − y: (0, 1), (1, 0), (−1, −2).
    let m = try RegressionMetrics(
      predictions: [1.0, 2, 3, 4, 5, 6], targets: [1.0, 1, 2, 4, 6, 8], width: 2)
    #expect(m.count == 3 && m.width == 2)
    expectClose(m.meanSquaredError, 7.0 / 6, relativeTolerance: 1e-15)
    expectClose(m.meanAbsoluteError, 5.0 / 6, relativeTolerance: 1e-15)
    // Output 0: targets 1, 2, 6 (mean 3, spread 14), residual 2. Output 1: targets 1, 4, 8 (spread 222/9),
    // residual 5.
    expectClose(m.r2PerOutput, [6.0 / 7, 1 - 45.0 / 222], relativeTolerance: 1e-14)
    expectClose(m.r2, (6.0 / 7 + 1 - 45.0 / 222) / 2, relativeTolerance: 1e-14)
  }

  @Test("constant targets: R² is 1 when exact, 0 otherwise")
  func constantTargets() throws {
    #expect(try RegressionMetrics(predictions: [2.0, 2], targets: [2.0, 2], width: 1).r2 == 1)
    #expect(try RegressionMetrics(predictions: [2.0, 3], targets: [2.0, 2], width: 1).r2 == 0)
    #expect(throws: ModelError.self) { try RegressionMetrics(predictions: [1.0], targets: [1.0, 2], width: 1) }
    #expect(throws: ModelError.self) { try RegressionMetrics(predictions: [1.0, 2, 3], targets: [1.0, 2, 3], width: 2) }
  }
}

@Suite("Metrics of a network on a sequence file")
struct DatasetMetricsTests {
  /// The metrics computed from batched passes agree with a step-by-step run of the same network.
  @Test("classes: batched metrics equal step-by-step predictions", arguments: [CellKind.lstm, .gru, .rnn(.tanh)])
  func classes(cell: CellKind) throws {
    let text = """
      {"x": [[0.1, 0.2], [0.5, -1], [2, 0]], "y": [0, 2, 1]}
      {"x": [[1, 1]], "y": [2]}
      {"x": [[-0.3, 0.4], [0.9, 0.1]], "y": [1, 1]}
      {"x": [[0.7, -0.7], [0.2, 0.2], [0, 1], [1, 0]], "y": [0, 0, 2, 1]}
      """
    let data = try SequenceDataset.parse(text, format: .jsonLines)
    let net = try RecurrentNetwork<Float>(data.networkConfiguration(cell: cell, hiddenSize: 5), seed: 3)
    guard case .classification(let m) = try data.metrics(of: net) else {
      Issue.record("expected a classification")
      return
    }
    var expected = ConfusionMatrix(classCount: 3)
    for (x, y) in zip(data.inputs, data.targets) {
      var state = net.initialState
      for (xt, yt) in zip(x, y) {
        let step = net.step(state, .vector(xt))
        state = step.state
        expected.add(target: Int(yt[0]), prediction: step.output.indices.max { step.output[$0] < step.output[$1] }!)
      }
    }
    #expect(m == expected)
    #expect(m.total == 10)
  }

  @Test("values: batched metrics equal step-by-step outputs")
  func values() throws {
    let text = """
      {"x": [[0.1], [0.5], [2]], "y": [[0.3, 1], [0.2, 0], [1, 1]]}
      {"x": [[1]], "y": [[-1, 0.5]]}
      """
    let data = try SequenceDataset.parse(text, format: .jsonLines)
    let net = try RecurrentNetwork<Float>(data.networkConfiguration(cell: .gru, hiddenSize: 4), seed: 1)
    guard case .regression(let m) = try data.metrics(of: net) else {
      Issue.record("expected a regression")
      return
    }
    var g: [Float] = []
    for x in data.inputs {
      var state = net.initialState
      for xt in x {
        let step = net.step(state, .vector(xt))
        state = step.state
        g += step.output
      }
    }
    let expected = try RegressionMetrics(predictions: g, targets: data.targets.flatMap { $0.flatMap { $0 } }, width: 2)
    expectClose(m.meanSquaredError, expected.meanSquaredError, relativeTolerance: 1e-5)
    expectClose(m.r2PerOutput, expected.r2PerOutput, relativeTolerance: 1e-5)
    #expect(m.count == 4)
  }
}

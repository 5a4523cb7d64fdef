import Foundation

/// The confusion matrix of a classifier over K classes, and the figures read off it: accuracy, per-class
/// precision, recall and F1, and macro-F1.
///
/// Entry (k, j) counts the examples whose target is class k and whose prediction is class j (rows: targets,
/// columns: predictions, as scikit-learn's `confusion_matrix`). For a class never predicted, precision is 0;
/// for a class that never occurs, recall is 0; F1 is 0 when precision + recall is 0 (scikit-learn's
/// `zero_division=0`). Macro-F1 is the plain mean of the K per-class F1 scores.
public struct ConfusionMatrix: Sendable, Equatable {
  /// K, the number of classes.
  public let classCount: Int
  /// The K × K counts, row-major: `counts[k * K + j]` examples of class k were predicted as j.
  public private(set) var counts: [Int]

  /// An empty matrix over K classes.
  public init(classCount: Int) {
    precondition(classCount >= 1, "a confusion matrix needs at least one class")
    self.classCount = classCount
    counts = Array(repeating: 0, count: classCount * classCount)
  }

  /// The matrix of paired targets and predictions.
  ///
  /// - Parameters:
  ///   - targets: the true class of each example, 0 … K−1.
  ///   - predictions: the predicted class of each example, 0 … K−1.
  ///   - classCount: K; nil for one more than the largest class seen (at least 2).
  /// - Throws: ``ModelError`` when the lists differ in length or a class is outside 0 … K−1.
  public init(targets: [Int], predictions: [Int], classCount: Int? = nil) throws {
    guard targets.count == predictions.count else {
      throw ModelError("\(targets.count) targets but \(predictions.count) predictions")
    }
    let K = classCount ?? max(2, (targets.max() ?? 0) + 1, (predictions.max() ?? 0) + 1)
    guard K >= 1 else { throw ModelError("a confusion matrix needs at least one class, got \(K)") }
    self.init(classCount: K)
    for (y, p) in zip(targets, predictions) {
      guard (0..<K).contains(y), (0..<K).contains(p) else {
        throw ModelError("class \((0..<K).contains(y) ? p : y) is outside the \(K) classes 0…\(K - 1)")
      }
      counts[y * K + p] += 1
    }
  }

  /// Counts one example of class `target` predicted as `prediction` (both in 0 … K−1).
  public mutating func add(target: Int, prediction: Int) {
    precondition((0..<classCount).contains(target) && (0..<classCount).contains(prediction))
    counts[target * classCount + prediction] += 1
  }

  /// The number of examples of class `target` predicted as `predicted`.
  public subscript(target: Int, predicted: Int) -> Int { counts[target * classCount + predicted] }

  /// The number of examples.
  public var total: Int { counts.reduce(0, +) }

  /// The number of examples whose target is class k (the row sum): the class's support.
  public func support(_ k: Int) -> Int { (0..<classCount).reduce(0) { $0 + self[k, $1] } }

  /// The number of examples predicted as class k (the column sum).
  public func predicted(_ k: Int) -> Int { (0..<classCount).reduce(0) { $0 + self[$1, k] } }

  /// The fraction of examples predicted correctly: Σ_k C_kk / Σ C (0 for no examples).
  public var accuracy: Double {
    let n = total
    return n == 0 ? 0 : Double((0..<classCount).reduce(0) { $0 + self[$1, $1] }) / Double(n)
  }

  /// Precision of class k: C_kk / Σ_i C_ik, the fraction of predictions of k that are right (0 when k is never
  /// predicted).
  public func precision(_ k: Int) -> Double {
    let p = predicted(k)
    return p == 0 ? 0 : Double(self[k, k]) / Double(p)
  }

  /// Recall of class k: C_kk / Σ_j C_kj, the fraction of examples of k found (0 when k never occurs).
  public func recall(_ k: Int) -> Double {
    let s = support(k)
    return s == 0 ? 0 : Double(self[k, k]) / Double(s)
  }

  /// F1 of class k: the harmonic mean 2 P R / (P + R) of its precision and recall (0 when both are 0).
  public func f1(_ k: Int) -> Double {
    let p = precision(k), r = recall(k)
    return p + r == 0 ? 0 : 2 * p * r / (p + r)
  }

  /// Macro-F1: (1/K) Σ_k F1_k, every class counting equally whatever its support.
  public var macroF1: Double {
    (0..<classCount).reduce(0.0) { $0 + f1($1) } / Double(classCount)
  }

  /// The names of the classes in tables and plots: `labels` when given (K of them), else "0" … "K−1".
  func names(_ labels: [String]?) -> [String] {
    if let labels, labels.count == classCount { return labels }
    return (0..<classCount).map(String.init)
  }

  /// A plain-text report: accuracy and macro-F1, a table of precision, recall, F1 and support per class, and
  /// the matrix itself (rows: targets, columns: predictions).
  ///
  /// - Parameter labels: K class names, or nil for the class numbers.
  public func report(labels: [String]? = nil) -> String {
    let names = names(labels)
    let nameWidth = max(5, names.map(\.count).max() ?? 1)
    func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
    var lines: [String] = []
    lines.append(String(format: "accuracy %.4f  macro-F1 %.4f  (%d examples)", accuracy, macroF1, total))
    lines.append(pad("class", nameWidth) + "  precision     recall         F1    support")
    for k in 0..<classCount {
      lines.append(
        pad(names[k], nameWidth)
          + String(format: " %10.4f %10.4f %10.4f %10d", precision(k), recall(k), f1(k), support(k)))
    }
    lines.append("confusion matrix (rows: target, columns: predicted)")
    let cellWidth = max(nameWidth, String(counts.max() ?? 0).count, names.map(\.count).max() ?? 1) + 1
    lines.append(pad("", nameWidth) + names.map { pad($0, cellWidth) }.joined())
    for k in 0..<classCount {
      lines.append(pad(names[k], nameWidth) + (0..<classCount).map { pad(String(self[k, $0]), cellWidth) }.joined())
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The matrix as CSV: a header `target,<name 0>,…`, then one row per target class with its counts.
  ///
  /// - Parameter labels: K class names, or nil for the class numbers. Names holding a comma, quote or line
  ///   break are quoted (RFC 4180).
  public func csv(labels: [String]? = nil) -> String {
    func field(_ s: String) -> String {
      s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
    let names = names(labels)
    var out = "target," + names.map(field).joined(separator: ",") + "\n"
    for k in 0..<classCount {
      out += field(names[k]) + "," + (0..<classCount).map { String(self[k, $0]) }.joined(separator: ",") + "\n"
    }
    return out
  }

  /// The matrix as an SVG heat map: one square per (target, prediction) pair, shaded by the fraction of the
  /// target's row it holds (white 0 → dark blue 1), its count written inside. Deterministic bytes, as
  /// ``LinePlot``.
  ///
  /// - Parameters:
  ///   - title: the text above the map.
  ///   - labels: K class names, or nil for the class numbers.
  public func heatMap(title: String, labels: [String]? = nil) -> String {
    let names = names(labels)
    let K = classCount
    let cell = Double(max(18, min(56, 560 / K)))
    let left = 70.0 + 6 * Double(names.map(\.count).max() ?? 1), top = 56.0
    let width = Int(left + cell * Double(K) + 24), height = Int(top + cell * Double(K) + 52)
    let f = { (v: Double) in LinePlot.format(v, decimals: 2) }
    var out = LinePlot.header(width: width, height: height, title: title, titleY: 22)
    let fontSize = Int(max(8, min(12, cell / 3)))
    for k in 0..<K {
      let row = support(k)
      for j in 0..<K {
        let share = row == 0 ? 0 : Double(self[k, j]) / Double(row)
        // White (255, 255, 255) to dark blue (8, 48, 107), linear in the share.
        let r = Int((255 - share * 247).rounded()), g = Int((255 - share * 207).rounded()), b = Int((255 - share * 148).rounded())
        let colour = String(format: "#%02x%02x%02x", r, g, b)
        let x = left + cell * Double(j), y = top + cell * Double(k)
        out.append(
          "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(colour)\" stroke=\"#ccc\"/>")
        out.append(
          "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + Double(fontSize) / 3))\" text-anchor=\"middle\" font-size=\"\(fontSize)\" fill=\"\(share > 0.5 ? "white" : "#222")\">\(self[k, j])</text>"
        )
      }
      out.append(
        "<text x=\"\(f(left - 6))\" y=\"\(f(top + cell * (Double(k) + 0.5) + 4))\" text-anchor=\"end\">\(LinePlot.escaped(names[k]))</text>")
    }
    for j in 0..<K {
      out.append(
        "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top + cell * Double(K) + 16))\" text-anchor=\"middle\">\(LinePlot.escaped(names[j]))</text>")
    }
    out.append(
      "<text x=\"\(f(left + cell * Double(K) / 2))\" y=\"\(f(Double(height) - 10))\" text-anchor=\"middle\">predicted class</text>")
    out.append(
      "<text x=\"14\" y=\"\(f(top + cell * Double(K) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + cell * Double(K) / 2)))\">target class</text>"
    )
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }
}

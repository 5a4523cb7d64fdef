import Foundation

/// The per-step metrics file: one JSON object per line (`step`, `epoch`, `time`, `loss`, `val_loss` when
/// computed, `lr`, `grad_norm`, `tokens_per_s`). Opening it for a resumed run drops the lines of steps after
/// the checkpoint, so the file reads as one run. Problems with the file throw ``MetricsError``.
final class MetricsLog {
  private let handle: FileHandle

  init(url: URL, keepingStepsUpTo step: Int) throws {
    let manager = FileManager.default
    if manager.fileExists(atPath: url.path) {
      let text = try String(contentsOf: url, encoding: .utf8)
      let kept = text.split(separator: "\n").filter { line in
        // A line cut short by a kill ("{\"step\":1" of step 12) is dropped, not read as another step.
        guard line.hasSuffix("}"), let range = line.range(of: "\"step\":") else { return false }
        let digits = line[range.upperBound...].prefix { $0.isNumber }
        return (Int(digits) ?? .max) <= step
      }
      let body = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
      // Atomically: a run killed while the file is rewritten keeps the old lines.
      try AtomicFile.write(Data(body.utf8), to: url)
    } else {
      guard manager.createFile(atPath: url.path, contents: nil) else {
        throw MetricsError("cannot create the metrics file \(url.path)")
      }
    }
    handle = try FileHandle(forWritingTo: url)
    try handle.seekToEnd()
  }

  deinit { try? handle.close() }

  func append(_ report: StepReport, time: Double, tokensPerSecond: Double) throws {
    func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
    var fields = [
      "\"step\":\(report.step)", "\"epoch\":\(report.epoch)", "\"time\":\(number(time))",
      "\"loss\":\(number(report.loss))",
    ]
    if let v = report.validationLoss { fields.append("\"val_loss\":\(number(v))") }
    fields += [
      "\"lr\":\(number(report.learningRate))", "\"grad_norm\":\(number(report.gradientNorm))",
      "\"tokens_per_s\":\(number(tokensPerSecond))",
    ]
    try handle.write(contentsOf: Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
  }
}

/// A problem with the per-step metrics file (``Trainer/metricsURL``).
public struct MetricsError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

import Foundation
import Recur

/// A training run as TensorBoard shows it: per step the scalars of `metrics.jsonl` (training loss,
/// validation loss when computed, learning rate, gradient norm, tokens per second), samples as text, and
/// the run's command and options as text at step 0.
///
/// Tags: `loss/train`, `loss/validation`, `learning_rate`, `gradient_norm`, `tokens_per_second`,
/// `samples`, `run/command`, `run/options`.
public final class TensorBoardLog {
  /// The event file.
  public let writer: TensorBoardWriter
  /// The first error met while logging from a progress callback (which cannot throw).
  public private(set) var firstError: ExportError?

  /// The metrics.jsonl key of each scalar tag, for readers that compare the two.
  public static let scalarTags: [(tag: String, metricsKey: String)] = [
    ("loss/train", "loss"), ("loss/validation", "val_loss"), ("learning_rate", "lr"),
    ("gradient_norm", "grad_norm"), ("tokens_per_second", "tokens_per_s"),
  ]

  /// Starts an event file in `directory` and records the command line and the trainer's options.
  ///
  /// - Throws: ``ExportError`` when the directory or file cannot be created.
  public init(directory: URL, command: [String] = CommandLine.arguments, options: TrainerOptions? = nil) throws {
    writer = try TensorBoardWriter(directory: directory)
    try writer.text("run/command", "    " + Self.commandLine(command), step: 0)
    if let options {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      let json = (try? encoder.encode(options)).map { String(decoding: $0, as: UTF8.self) } ?? "\(options)"
      try writer.text("run/options", json.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"), step: 0)
    }
  }

  /// Records one step's scalars, and `sample` (if any) as text.
  public func record(_ progress: TrainingProgress, sample: String? = nil) {
    let r = progress.report
    var values: [(tag: String, value: Double)] = [("loss/train", r.loss)]
    if let v = r.validationLoss { values.append(("loss/validation", v)) }
    values += [
      ("learning_rate", r.learningRate), ("gradient_norm", r.gradientNorm),
      ("tokens_per_second", progress.tokensPerSecond),
    ]
    do {
      try writer.scalars(values, step: r.step)
      if let sample { try writer.text("samples", "    " + sample.replacingOccurrences(of: "\n", with: "\n    "), step: r.step) }
    } catch let error as ExportError {
      if firstError == nil { firstError = error }
    } catch {
      if firstError == nil { firstError = ExportError("\(error)") }
    }
  }

  /// Logs every step of `trainer` (after its own progress callback) from now on; `sample`, if given, is
  /// asked for a sample at each validation.
  public func attach<Source: TrainingData>(
    to trainer: Trainer<Source>, sample: ((RecurrentNetwork<Source.Scalar>) -> String?)? = nil
  ) {
    let previous = trainer.onProgress
    trainer.onProgress = { [unowned self, unowned trainer] progress in
      previous?(progress)
      let text = progress.report.validationLoss != nil ? sample?(trainer.network) : nil
      self.record(progress, sample: text)
    }
  }

  /// Forces the file to disk and reports the first error met while logging.
  public func finish() throws {
    if let firstError { throw firstError }
    try writer.synchronize()
  }

  /// The command line as a shell would take it, the program named by its file name.
  static func commandLine(_ arguments: [String]) -> String {
    var words = arguments
    if let first = words.first { words[0] = URL(fileURLWithPath: first).lastPathComponent }
    return words.map(shellQuoted).joined(separator: " ")
  }

  static func shellQuoted(_ word: String) -> String {
    let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
    return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

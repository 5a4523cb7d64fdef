import ArgumentParser
import Foundation
import Recur

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A command-line error: printed as one line ("Error: …") and a non-zero exit, without the usage text that
/// `ValidationError` adds.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any library error into a one-line ``CLIError`` prefixed with `context`.
func oneLine<R>(_ context: String, _ body: () throws -> R) throws -> R {
  do {
    return try body()
  } catch let error as CLIError {
    throw error
  } catch {
    let message = String(describing: error).split(separator: "\n").joined(separator: " ")
    throw CLIError(context.isEmpty ? message : "\(context): \(message)")
  }
}

/// Reads a text file for training or evaluation, with one-line errors for a missing file, a directory, an
/// empty file or an unreadable one.
func readTextFile(_ path: String, option: String = "--text") throws -> [UInt8] {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw CLIError("\(option) \(path): no such file")
  }
  guard !isDirectory.boolValue else { throw CLIError("\(option) \(path) is a directory, not a text file") }
  // POSIX reads (not `Data(contentsOf:)`, which leaks its buffer for an empty file) with the system's reason.
  let bytes: [UInt8]
  do { bytes = [UInt8](try AtomicFile.read(from: URL(fileURLWithPath: path))) } catch {
    throw CLIError("\(option) \(path) cannot be read: \(String(cString: strerror(error.code)))")
  }
  guard !bytes.isEmpty else { throw CLIError("\(option) \(path) is empty") }
  return bytes
}

/// Reads a language-model checkpoint (Recur's, a model folder, or a weights-only one written by
/// `interop/recur_torch.save_for_recur`), with one-line errors that name the option and the file.
func readLanguageModel(
  path: String, option: String = "--checkpoint", weights: ModelWeights = .averaged
) throws -> LanguageModelCheckpoint {
  let file = try checkpointFile(path, option: option)
  let checkpoint = try oneLine("\(option) \(path)") { try Checkpoint<Float>(contentsOf: file) }
  do {
    return try LanguageModelCheckpoint(checkpoint, weights: weights)
  } catch LanguageModelCheckpointError.notALanguageModel {
    throw CLIError("\(option) \(path) is \(LanguageModelCheckpointError.notALanguageModel)")
  } catch {
    throw CLIError("\(option) \(path): \(String(describing: error).split(separator: "\n").joined(separator: " "))")
  }
}

/// Refuses a model whose training would not fit in this machine's memory, with the estimate and what to lower.
func checkMemory<Scalar: RecurScalar>(
  _ configuration: RecurrentNetwork<Scalar>.Configuration, batch: Int, steps: Int,
  advice: String = "lower --hidden, --layers, --batch-size or --seq-len"
) throws {
  do {
    try configuration.checkTrainingMemory(batch: batch, steps: steps)
  } catch let error as TrainingMemoryError {
    throw CLIError("\(error); \(advice)")
  }
}

/// The progress display of a training run on standard error: one line rewritten in place (`\r`) on a
/// terminal, plain lines (every `plainEvery` steps and at each validation) otherwise.
final class ProgressLine {
  let isTerminal = isatty(STDERR_FILENO) != 0
  let plainEvery: Int
  /// Whether to print nothing but ``summary(_:)`` lines.
  let quiet: Bool
  private var lastLength = 0

  init(plainEvery: Int, quiet: Bool = false) {
    self.plainEvery = plainEvery
    self.quiet = quiet
  }

  func update(_ p: TrainingProgress, totalSteps: Int?) {
    guard !quiet else { return }
    let r = p.report
    var parts = ["step \(r.step)" + (totalSteps.map { "/\($0)" } ?? "")]
    parts.append(String(format: "loss %.4f", r.loss))
    if let v = r.validationLoss ?? p.bestValidationLoss {
      parts.append(String(format: r.validationLoss != nil ? "val %.4f" : "best val %.4f", v))
    }
    parts.append(String(format: "%.1fk tok/s", p.tokensPerSecond / 1000))
    parts.append("elapsed " + duration(p.elapsed))
    if let left = p.secondsRemaining { parts.append("left " + duration(left)) }
    let line = parts.joined(separator: "  ")
    if isTerminal {
      let pad = max(0, lastLength - line.count)
      write("\r" + line + String(repeating: " ", count: pad))
      lastLength = line.count
    } else if r.step % plainEvery == 0 || r.validationLoss != nil || r.step == 1 {
      write(line + "\n")
    }
  }

  /// Prints a whole line (ending the live line first on a terminal), unless quiet.
  func message(_ text: String) {
    if !quiet { summary(text) }
  }

  /// Prints a whole line even when quiet.
  func summary(_ text: String) {
    if isTerminal, lastLength > 0 {
      write("\n")
      lastLength = 0
    }
    write(text + "\n")
  }

  func finish() {
    if isTerminal, lastLength > 0 { write("\n") }
    lastLength = 0
  }

  private func write(_ s: String) {
    if Ranks.isPrimary { FileHandle.standardError.write(Data(s.utf8)) }
  }
}

/// "1h02m", "3m07s", "42s".
func duration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
  if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
  return "\(s)s"
}

/// Writes bytes to standard output at once (for streamed samples).
func writeOut(_ bytes: [UInt8]) {
  FileHandle.standardOutput.write(Data(bytes))
}

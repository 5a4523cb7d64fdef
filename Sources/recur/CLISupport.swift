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

/// A language model read from a checkpoint: the network, its vocabulary and the text mode it was trained in.
struct LanguageModelFile {
  let checkpoint: Checkpoint<Float>
  let vocabulary: Vocabulary
  let mode: TextMode

  /// Reads a Recur checkpoint or a weights-only one written by `interop/recur_torch.save_for_recur`.
  init(path: String, option: String = "--checkpoint") throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CLIError("\(option) \(path): no such file")
    }
    guard !isDirectory.boolValue else { throw CLIError("\(option) \(path) is a directory, not a checkpoint") }
    checkpoint = try oneLine("\(option) \(path)") { try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: path)) }
    let configuration = checkpoint.network.configuration
    guard configuration.embeddingSize != nil, configuration.outputActivation == .softmax else {
      throw CLIError("\(option) \(path) is not a language model (it has no embedding or no softmax output)")
    }
    let metadata = checkpoint.metadata
    vocabulary = try oneLine("\(option) \(path)") { try Vocabulary(metadata: metadata) }
    guard vocabulary.count == configuration.inputSize else {
      throw CLIError(
        "\(option) \(path): the vocabulary has \(vocabulary.count) tokens but the model \(configuration.inputSize)")
    }
    let modeName = metadata[TextMetadata.mode] ?? TextMode.stream.rawValue
    guard let mode = TextMode(rawValue: modeName) else {
      throw CLIError("\(option) \(path): metadata '\(TextMetadata.mode)' is '\(modeName)', not stream, lines or documents")
    }
    self.mode = mode
  }

  /// A one-line description: "2-layer lstm, H = 512, E = 64, V = 67 (characters), stream mode".
  var summary: String {
    let c = checkpoint.network.configuration
    return "\(c.layers)-layer \(c.cell), H = \(c.hiddenSize), E = \(c.embeddingSize ?? 0), "
      + "V = \(c.inputSize) (\(vocabulary.kind.rawValue)), \(mode.rawValue) mode"
  }
}

/// The metadata keys the language-model commands add to a checkpoint (beside `vocabulary.*`).
enum TextMetadata {
  /// How the training pairs were made: `stream`, `lines` or `documents` (absent: `stream`).
  static let mode = "text.mode"
  /// B and T of the run, so that `--resume` rebuilds exactly the same batches.
  static let batchSize = "text.batch_size"
  static let sequenceLength = "text.seq_len"
  /// The fraction of the text held out for validation.
  static let validationFraction = "text.validation_fraction"
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

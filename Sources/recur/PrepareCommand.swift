import ArgumentParser
import Foundation
import Recur

/// `recur prepare --text FILE --output FILE.tokens`: encodes a text once into a token file that train, eval
/// and sample map instead of reading the text.
struct PrepareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prepare",
    abstract: "Encode a text once into a compact token file (for texts larger than memory).",
    discussion: """
      The text is read twice in pieces (for the vocabulary, then to encode it) and the ids are written as they \
      are made: 16 bits per id when the vocabulary has at most 65536 tokens. `recur train`, `eval` and `sample` \
      accept the token file wherever they take --text, and map it: a training run keeps only the pages of the \
      streams it reads in memory, and every rank of an MPI run reads only its own streams.
      """
  )

  @Option(help: "The text to encode.")
  var text: String

  @Option(help: "The token file to write (replaced atomically).")
  var output: String

  @Option(help: "characters (Unicode scalars) or bytes.")
  var vocabulary: Vocabulary.Kind = .characters

  @Option(help: "Use this checkpoint's vocabulary (to evaluate or continue training a model on a new text).")
  var checkpoint: String?

  func validate() throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) else {
      throw CLIError("--text \(text): no such file")
    }
    guard !isDirectory.boolValue else { throw CLIError("--text \(text) is a directory, not a file") }
    let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw CLIError("--output \(output): the folder \(folder) does not exist")
    }
    if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
      throw CLIError("--output \(output) is a directory, not a file")
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: text)[.size] as? Int) ?? 0
    guard size > 0 else { throw CLIError("--text \(text) is empty") }
  }

  func run() throws {
    guard Ranks.isPrimary else { return }
    let given = try checkpoint.map { try readLanguageModel(path: $0).vocabulary }
    let start = Date()
    let (vocabulary, count) = try oneLine("--text \(text)") {
      try TokenFile.write(
        text: URL(fileURLWithPath: text), kind: self.vocabulary, vocabulary: given,
        to: URL(fileURLWithPath: output))
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
    print(
      String(
        format: "%@: %d tokens, vocabulary of %d (%d-bit ids), %.1f MB, in %.1f s", output, count, vocabulary.count,
        vocabulary.count <= 0x10000 ? 16 : 32, Double(size) / 1e6, Date().timeIntervalSince(start)))
  }
}

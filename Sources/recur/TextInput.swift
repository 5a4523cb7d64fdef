import Foundation
import Recur
import RecurExport

/// The text a command reads: a plain text file, encoded into 16-bit ids where the vocabulary fits (the bytes
/// are dropped once encoded), or a token file written by `recur prepare`, memory-mapped.
struct TextInput {
  let tokens: TokenSequence
  let vocabulary: Vocabulary
  /// A digest of the input for comparing the ranks of an MPI run (computed only with several ranks).
  let digest: String
  /// How the model was trained on it (command, file, size and, for a plain text, its SHA-256), for a checkpoint's
  /// metadata and a model folder's card.
  let provenance: [String: String]

  /// Reads `path`, with the vocabulary `given` (a checkpoint's) or a new one of the kind `kind()` names.
  init(path: String, option: String = "--text", given: Vocabulary?, kind: () throws -> Vocabulary.Kind) throws {
    let url = URL(fileURLWithPath: path)
    let ranks = Ranks.communicator.size
    if TokenFile.isTokenFile(url) {
      let file = try oneLine("\(option) \(path)") { try TokenFile(contentsOf: url) }
      if let given, given != file.vocabulary {
        throw CLIError("\(option) \(path) was prepared with another vocabulary than the checkpoint's; prepare it with `recur prepare --checkpoint`")
      }
      if given == nil, file.vocabulary.kind != (try kind()) {
        throw CLIError("\(option) \(path) holds a \(file.vocabulary.kind.rawValue) vocabulary, not \(try kind().rawValue)")
      }
      tokens = file.tokens
      vocabulary = file.vocabulary
      // The count, the vocabulary and 64 ids spread over the file: a few pages, not the whole file.
      var sample = "\(tokens.count) \(vocabulary.tokens.joined(separator: "\u{1}"))"
      if ranks > 1, !tokens.isEmpty {
        for k in 0..<64 { sample += " \(tokens[tokens.count / 64 * k])" }
      }
      digest = ranks > 1 ? fingerprint(Array(sample.utf8)) : ""
      // The file's name and size; no checksum of a file that may be larger than memory.
      var provenance = ModelFolder.Provenance.metadata(path: path, data: [])
      provenance[ModelFolder.Provenance.dataSHA256] = nil
      provenance[ModelFolder.Provenance.dataBytes] =
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int).map { String($0) }
      self.provenance = provenance
    } else {
      let bytes = try readTextFile(path, option: option)
      let vocabulary = try given ?? oneLine(path) { try Vocabulary(kind: try kind(), text: bytes) }
      tokens = try oneLine(path) { try TokenSequence(encoding: bytes, with: vocabulary) }
      self.vocabulary = vocabulary
      digest = ranks > 1 ? fingerprint(bytes) : ""
      provenance = ModelFolder.Provenance.metadata(path: path, data: bytes)
    }
  }
}

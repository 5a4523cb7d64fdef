/// An error in reading, encoding or batching a text. Its description is one line naming the problem and,
/// where there is one, the way out.
public enum TextError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The text is not valid UTF-8; `offset` is the byte offset of the first byte of the bad sequence.
  case invalidUTF8(offset: Int, byte: UInt8)
  /// A character of the text is not in the vocabulary; `offset` is its byte offset in the UTF-8 text.
  case unknownCharacter(Unicode.Scalar, offset: Int, vocabularySize: Int)
  /// The text has fewer tokens than a construction needs.
  case textTooShort(tokens: Int, needed: Int, purpose: String)
  /// A vocabulary read from a checkpoint is malformed.
  case invalidVocabulary(String)
  /// A sequence of the per-line or per-document construction is longer than the allowed number of steps.
  case sequenceTooLong(index: Int, steps: Int, maxSteps: Int)
  /// Any other bad input, in one line.
  case invalid(String)

  public var description: String {
    switch self {
    case .invalidUTF8(let offset, let byte):
      let hex = String(byte, radix: 16, uppercase: true)
      return "the text is not valid UTF-8 at byte offset \(offset) (byte 0x\(hex.count == 1 ? "0" + hex : hex)); "
        + "use the bytes vocabulary (--vocabulary bytes) to model any file byte by byte"
    case .unknownCharacter(let scalar, let offset, let size):
      return "the character \(Vocabulary.describe(scalar)) at byte offset \(offset) is not in the vocabulary "
        + "of \(size) tokens; train a new model on this text or use a bytes vocabulary"
    case .textTooShort(let tokens, let needed, let purpose):
      return "the text is too short: \(purpose) needs at least \(needed) tokens, the text has \(tokens)"
    case .invalidVocabulary(let message):
      return "invalid vocabulary: \(message)"
    case .sequenceTooLong(let index, let steps, let maxSteps):
      return "sequence \(index) has \(steps) steps (with <start>), more than the maximum of \(maxSteps); "
        + "raise the sequence length or use stream mode"
    case .invalid(let message):
      return message
    }
  }
}

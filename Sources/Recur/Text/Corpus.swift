import Foundation

/// A text as a sequence of token ids c_1 … c_n under a ``Vocabulary``.
public struct Corpus: Sendable, Equatable {
  /// The vocabulary the ids refer to.
  public let vocabulary: Vocabulary
  /// The token ids, in text order.
  public let tokens: [Int32]

  /// A corpus of already encoded tokens.
  public init(vocabulary: Vocabulary, tokens: [Int32]) {
    self.vocabulary = vocabulary
    self.tokens = tokens
  }

  /// A text and the vocabulary built from it (see ``Vocabulary/init(kind:text:)``).
  public init(text: some Collection<UInt8>, kind: Vocabulary.Kind) throws {
    let vocabulary = try Vocabulary(kind: kind, text: text)
    try self.init(text: text, vocabulary: vocabulary)
  }

  /// A text encoded with a given vocabulary (for example one read from a checkpoint); throws
  /// ``TextError/unknownCharacter(_:offset:vocabularySize:)`` when the vocabulary does not cover the text.
  public init(text: some Collection<UInt8>, vocabulary: Vocabulary) throws {
    self.init(vocabulary: vocabulary, tokens: try vocabulary.encode(utf8: text))
  }

  /// The file at `url`, read as bytes and encoded with a new vocabulary of the given kind.
  public init(contentsOf url: URL, kind: Vocabulary.Kind) throws {
    try self.init(text: try Corpus.read(url), kind: kind)
  }

  /// The file at `url`, read as bytes and encoded with a given vocabulary.
  public init(contentsOf url: URL, vocabulary: Vocabulary) throws {
    try self.init(text: try Corpus.read(url), vocabulary: vocabulary)
  }

  static func read(_ url: URL) throws -> [UInt8] {
    do {
      return [UInt8](try Data(contentsOf: url))
    } catch {
      throw TextError.invalid("cannot read \(url.path): \(error.localizedDescription)")
    }
  }

  /// n, the number of tokens.
  public var count: Int { tokens.count }

  /// The validation split by token position: the first part trains, the last ⌊n · `validationFraction`⌋
  /// tokens validate (by default the first 90% and the last 10%).
  ///
  /// - Throws: ``TextError/invalid(_:)`` for a fraction outside [0, 1).
  public func split(validationFraction: Double = 0.1) throws -> (training: [Int32], validation: [Int32]) {
    guard validationFraction >= 0, validationFraction < 1 else {
      throw TextError.invalid("the validation fraction must be in [0, 1), got \(validationFraction)")
    }
    let validationCount = Int((Double(tokens.count) * validationFraction).rounded(.down))
    let cut = tokens.count - validationCount
    return (Array(tokens[..<cut]), Array(tokens[cut...]))
  }
}

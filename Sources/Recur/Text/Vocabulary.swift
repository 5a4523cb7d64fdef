import Foundation

/// The tokens of a language model: the symbols a text is made of, then the chapter's two special tokens
/// `<start>` and `<end>` (section "RNN as a language model").
///
/// Two kinds:
/// - **characters**: the distinct Unicode scalars of a text, sorted by code point. A token is one Unicode
///   scalar, never a fragment of one, so a multi-byte UTF-8 sequence such as "é" (C3 A9) or "日" (E6 97 A5)
///   is one token and sampling can never emit half of it. Scalars rather than grapheme clusters: the set of
///   scalars in a text is small and closed, while clusters are open-ended (any base with any run of
///   combining marks, emoji joined by ZWJ); a model over scalars still writes every cluster, one scalar at
///   a time.
/// - **bytes**: the 256 byte values, for any file (including text that is not UTF-8).
///
/// Ids: symbol i has id i; `<start>` is ``startToken`` (= the number of symbols) and `<end>` is
/// ``endToken``, so V = symbols + 2. Ids are `Int32`, as stored in ``SequenceBatch``.
public struct Vocabulary: Sendable, Equatable {
  /// How a text is cut into tokens.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// One token per Unicode scalar of a UTF-8 text.
    case characters
    /// One token per byte.
    case bytes
  }

  /// The name of the start token in ``tokens``.
  public static let startName = "<start>"
  /// The name of the end token in ``tokens``.
  public static let endName = "<end>"

  /// How this vocabulary cuts a text.
  public let kind: Kind
  /// The ordinary symbols, id = index: Unicode scalars (characters), or U+0000 … U+00FF standing for the
  /// byte values 0 … 255 (bytes).
  public let symbols: [Unicode.Scalar]
  /// Symbol → id, for characters.
  private let ids: [Unicode.Scalar: Int32]

  /// A characters vocabulary of the given scalars (deduplicated and sorted by code point).
  public init(characters: some Sequence<Unicode.Scalar>) {
    let sorted = Set(characters).sorted { $0.value < $1.value }
    self.init(kind: .characters, symbols: sorted)
  }

  private init(kind: Kind, symbols: [Unicode.Scalar]) {
    self.kind = kind
    self.symbols = symbols
    var ids: [Unicode.Scalar: Int32] = [:]
    if kind == .characters {
      for (i, s) in symbols.enumerated() { ids[s] = Int32(i) }
    }
    self.ids = ids
  }

  /// The bytes vocabulary: 256 byte tokens, then `<start>` and `<end>` (V = 258).
  public static let bytes = Vocabulary(kind: .bytes, symbols: (0...255).map { Unicode.Scalar(UInt8($0)) })

  /// The vocabulary of a text: for characters, its distinct Unicode scalars (throws ``TextError/invalidUTF8(offset:byte:)``
  /// when the text is not UTF-8); for bytes, all 256 bytes whatever the text.
  public init(kind: Kind, text: some Collection<UInt8>) throws {
    switch kind {
    case .bytes:
      self = .bytes
    case .characters:
      var seen = Set<Unicode.Scalar>()
      try Vocabulary.decodeUTF8(text) { scalar, _ in seen.insert(scalar) }
      self.init(characters: seen)
    }
  }

  /// V, the number of tokens including `<start>` and `<end>`.
  public var count: Int { symbols.count + 2 }
  /// The id of `<start>`, the first input x_1 of the chapter's per-line construction.
  public var startToken: Int32 { Int32(symbols.count) }
  /// The id of `<end>`, the last target y_k of the chapter's per-line construction.
  public var endToken: Int32 { Int32(symbols.count + 1) }
  /// The id of the line feed, if the vocabulary has one.
  public var newlineToken: Int32? { id(of: "\n") }
  /// The id of the carriage return, if the vocabulary has one.
  var carriageReturnToken: Int32? { id(of: "\r") }

  /// The id of a symbol (a scalar for characters; U+0000 … U+00FF for bytes), or nil.
  public func id(of scalar: Unicode.Scalar) -> Int32? {
    switch kind {
    case .characters: ids[scalar]
    case .bytes: scalar.value < 256 ? Int32(scalar.value) : nil
    }
  }

  // MARK: Encoding and decoding

  /// The token ids of a UTF-8 text (characters), or of any bytes (bytes).
  ///
  /// - Throws: ``TextError/invalidUTF8(offset:byte:)`` for a characters vocabulary and bytes that are not
  ///   UTF-8; ``TextError/unknownCharacter(_:offset:vocabularySize:)`` for a character outside the vocabulary.
  public func encode(utf8 text: some Collection<UInt8>) throws -> [Int32] {
    var out: [Int32] = []
    out.reserveCapacity(text.count)
    switch kind {
    case .bytes:
      for b in text { out.append(Int32(b)) }
    case .characters:
      try Vocabulary.decodeUTF8(text) { scalar, offset in
        guard let id = ids[scalar] else {
          throw TextError.unknownCharacter(scalar, offset: offset, vocabularySize: count)
        }
        out.append(id)
      }
    }
    return out
  }

  /// The token ids of a string (its UTF-8 bytes for a bytes vocabulary).
  public func encode(_ text: String) throws -> [Int32] {
    try encode(utf8: Array(text.utf8))
  }

  /// Appends the bytes a token stands for: the UTF-8 of its scalar (characters) or the byte itself
  /// (bytes). `<start>` and `<end>` stand for nothing.
  public func appendBytes(of id: Int32, to bytes: inout [UInt8]) {
    guard id >= 0, Int(id) < symbols.count else { return }
    switch kind {
    case .bytes: bytes.append(UInt8(id))
    case .characters: bytes.append(contentsOf: UTF8.encode(symbols[Int(id)])!)
    }
  }

  /// The bytes of a token sequence, without `<start>` and `<end>`.
  public func decodeBytes<S: Sequence>(_ ids: S) -> [UInt8] where S.Element: BinaryInteger {
    var bytes: [UInt8] = []
    for id in ids { appendBytes(of: Int32(truncatingIfNeeded: id), to: &bytes) }
    return bytes
  }

  /// The text of a token sequence, without `<start>` and `<end>` (bytes that are not UTF-8 become U+FFFD).
  public func decode<S: Sequence>(_ ids: S) -> String where S.Element: BinaryInteger {
    String(decoding: decodeBytes(ids), as: UTF8.self)
  }

  /// The entry of token `id` in ``tokens``: its symbol as a one-scalar string, or "<start>" / "<end>".
  public func name(of id: Int32) -> String {
    if id == startToken { return Vocabulary.startName }
    if id == endToken { return Vocabulary.endName }
    return String(Character(symbols[Int(id)]))
  }

  // MARK: The checkpoint contract

  /// The token list as saved in a checkpoint: index = id; each symbol as a one-scalar string (for bytes,
  /// U+0000 … U+00FF standing for the byte values), then "<start>", "<end>".
  public var tokens: [String] { (0..<Int32(count)).map(name(of:)) }

  /// The checkpoint metadata: "vocabulary.kind" ("characters" or "bytes") and "vocabulary.tokens" (a JSON
  /// array of strings, ``tokens``).
  public var metadata: [String: String] {
    let data = try! JSONSerialization.data(withJSONObject: tokens, options: [.withoutEscapingSlashes])
    return ["vocabulary.kind": kind.rawValue, "vocabulary.tokens": String(decoding: data, as: UTF8.self)]
  }

  /// The vocabulary saved in checkpoint metadata (see ``metadata``).
  public init(metadata: [String: String]) throws {
    guard let kindName = metadata["vocabulary.kind"] else { throw TextError.invalidVocabulary("no vocabulary.kind") }
    guard let kind = Kind(rawValue: kindName) else {
      throw TextError.invalidVocabulary("vocabulary.kind is \"\(kindName)\", expected \"characters\" or \"bytes\"")
    }
    guard let json = metadata["vocabulary.tokens"] else {
      throw TextError.invalidVocabulary("no vocabulary.tokens")
    }
    let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
    guard let tokens = parsed as? [String] else {
      throw TextError.invalidVocabulary("vocabulary.tokens is not a JSON array of strings")
    }
    try self.init(kind: kind, tokens: tokens)
  }

  /// A vocabulary from its token list (see ``tokens``).
  public init(kind: Kind, tokens: [String]) throws {
    guard tokens.count >= 2, tokens[tokens.count - 2] == Vocabulary.startName,
      tokens[tokens.count - 1] == Vocabulary.endName
    else { throw TextError.invalidVocabulary("the last two tokens must be \"<start>\" and \"<end>\"") }
    var symbols: [Unicode.Scalar] = []
    for (i, token) in tokens.dropLast(2).enumerated() {
      let scalars = token.unicodeScalars
      guard scalars.count == 1, let s = scalars.first else {
        throw TextError.invalidVocabulary("token \(i) (\"\(token)\") is not a single Unicode scalar")
      }
      symbols.append(s)
    }
    switch kind {
    case .bytes:
      guard symbols.count == 256, symbols.enumerated().allSatisfy({ $0.element.value == UInt32($0.offset) }) else {
        throw TextError.invalidVocabulary("a bytes vocabulary has the 256 tokens U+0000 … U+00FF in order")
      }
      self = .bytes
    case .characters:
      guard Set(symbols).count == symbols.count else {
        throw TextError.invalidVocabulary("a character appears twice")
      }
      self.init(kind: .characters, symbols: symbols)
    }
  }

  /// A readable name of a scalar for messages: "é" (U+00E9), or U+000A alone for invisible ones.
  static func describe(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16, uppercase: true)
    let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    let visible = !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control
      && scalar.properties.generalCategory != .format
    return visible ? "\"\(Character(scalar))\" (\(code))" : code
  }

  // MARK: UTF-8

  /// Decodes UTF-8 strictly (no overlong forms, surrogates or values above U+10FFFF), calling `body` with each
  /// scalar and the byte offset where it starts.
  ///
  /// - Throws: ``TextError/invalidUTF8(offset:byte:)`` at the first byte of the first bad sequence.
  static func decodeUTF8(
    _ text: some Collection<UInt8>, _ body: (Unicode.Scalar, Int) throws -> Void
  ) throws {
    let run: (UnsafeBufferPointer<UInt8>) throws -> Void = { p in
      let n = p.count
      var i = 0
      while i < n {
        let b0 = p[i]
        if b0 < 0x80 {
          try body(Unicode.Scalar(b0), i)
          i += 1
          continue
        }
        let length: Int, low: UInt8, high: UInt8, initial: UInt32
        switch b0 {
        case 0xC2...0xDF: (length, low, high, initial) = (2, 0x80, 0xBF, UInt32(b0 & 0x1F))
        case 0xE0: (length, low, high, initial) = (3, 0xA0, 0xBF, UInt32(b0 & 0x0F))
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high, initial) = (3, 0x80, 0xBF, UInt32(b0 & 0x0F))
        case 0xED: (length, low, high, initial) = (3, 0x80, 0x9F, UInt32(b0 & 0x0F))
        case 0xF0: (length, low, high, initial) = (4, 0x90, 0xBF, UInt32(b0 & 0x07))
        case 0xF1...0xF3: (length, low, high, initial) = (4, 0x80, 0xBF, UInt32(b0 & 0x07))
        case 0xF4: (length, low, high, initial) = (4, 0x80, 0x8F, UInt32(b0 & 0x07))
        default: throw TextError.invalidUTF8(offset: i, byte: b0)
        }
        guard i + length <= n else { throw TextError.invalidUTF8(offset: i, byte: b0) }
        // The second byte has a lead-dependent range; the rest are plain continuation bytes.
        guard p[i + 1] >= low, p[i + 1] <= high else { throw TextError.invalidUTF8(offset: i, byte: b0) }
        var value = initial
        for k in 1..<length {
          let b = p[i + k]
          guard b & 0xC0 == 0x80 else { throw TextError.invalidUTF8(offset: i, byte: b0) }
          value = value << 6 | UInt32(b & 0x3F)
        }
        try body(Unicode.Scalar(value)!, i)
        i += length
      }
    }
    if let done: Void = try text.withContiguousStorageIfAvailable(run) { return done }
    try Array(text).withUnsafeBufferPointer(run)
  }
}

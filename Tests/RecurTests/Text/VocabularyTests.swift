import Foundation
import Testing

@testable import Recur

@Suite("Vocabulary: characters, bytes, <start> and <end>")
struct VocabularyTests {
  @Test("characters/multi-byte scalars are single tokens and round-trip")
  func multiByteRoundTrip() throws {
    let text = "café 日本 🙂 e\u{301}!\n"
    let vocabulary = try Vocabulary(kind: .characters, text: Array(text.utf8))
    // e + combining acute is two scalars; "é" (U+00E9) is one.
    #expect(vocabulary.symbols.map(\.value) == Set(text.unicodeScalars.map(\.value)).sorted())
    #expect(vocabulary.count == vocabulary.symbols.count + 2)
    #expect(vocabulary.startToken == Int32(vocabulary.symbols.count))
    #expect(vocabulary.endToken == vocabulary.startToken + 1)
    let ids = try vocabulary.encode(text)
    #expect(ids.count == text.unicodeScalars.count)
    #expect(ids.count < text.utf8.count)
    #expect(vocabulary.decode(ids) == text)
    #expect(vocabulary.name(of: try #require(vocabulary.id(of: "日"))) == "日")
    #expect(vocabulary.name(of: try #require(vocabulary.id(of: "🙂"))) == "🙂")
    // Special tokens decode to nothing and are named in the token list.
    #expect(vocabulary.decode([vocabulary.startToken] + ids + [vocabulary.endToken]) == text)
    #expect(vocabulary.tokens.suffix(2) == ["<start>", "<end>"])
  }

  @Test("characters/symbols are sorted by code point, specials last")
  func sortedSymbols() throws {
    let vocabulary = try Vocabulary(kind: .characters, text: Array("cabé\nab".utf8))
    #expect(vocabulary.tokens == ["\n", "a", "b", "c", "é", "<start>", "<end>"])
    #expect(try vocabulary.encode("abc") == [1, 2, 3])
  }

  @Test("bytes/256 byte tokens then <start>, <end>; any bytes round-trip")
  func bytesRoundTrip() throws {
    let vocabulary = Vocabulary.bytes
    #expect(vocabulary.count == 258)
    #expect(vocabulary.startToken == 256 && vocabulary.endToken == 257)
    let data: [UInt8] = [0xFF, 0x00, 0xC3, 0xA9, 0x41, 0xE6]
    let ids = try vocabulary.encode(utf8: data)
    #expect(ids == [255, 0, 195, 169, 65, 230])
    #expect(vocabulary.decodeBytes(ids) == data)
    #expect(try vocabulary.encode("é") == [0xC3, 0xA9])
    #expect(vocabulary.tokens[0xE9] == "\u{E9}")
    #expect(vocabulary.tokens[0] == "\u{0}")
  }

  @Test("characters/invalid UTF-8 is a typed error with the byte offset suggesting bytes mode")
  func invalidUTF8() throws {
    let cases: [([UInt8], Int)] = [
      (Array("ab".utf8) + [0xFF] + Array("c".utf8), 2),  // never a UTF-8 byte
      (Array("é".utf8) + [0xC3], 2),  // truncated at the end
      (Array("x".utf8) + [0xE6, 0x97, 0x41], 1),  // bad continuation
      ([0xC0, 0xAF], 0),  // overlong "/"
      ([0x41, 0xED, 0xA0, 0x80], 1),  // UTF-16 surrogate
      ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
    ]
    for (bytes, offset) in cases {
      let error = #expect(throws: TextError.self) { try Vocabulary(kind: .characters, text: bytes) }
      guard case .invalidUTF8(let at, _)? = error else {
        Issue.record("expected invalidUTF8 for \(bytes)")
        continue
      }
      #expect(at == offset, "bytes \(bytes)")
      #expect(error!.description.contains("byte offset \(offset)"))
      #expect(error!.description.contains("bytes"))
      #expect(!error!.description.contains("\n"))
    }
    // The same bytes are fine in bytes mode.
    #expect(try Vocabulary(kind: .bytes, text: [0xFF, 0xC0]).count == 258)
  }

  @Test("characters/an unknown character names the character")
  func unknownCharacter() throws {
    let vocabulary = try Vocabulary(kind: .characters, text: Array("hello".utf8))
    let error = #expect(throws: TextError.self) { try vocabulary.encode("hel日o") }
    #expect(error == .unknownCharacter("日", offset: 3, vocabularySize: 6))
    #expect(error?.description.contains("\"日\" (U+65E5)") == true)
    let newline = #expect(throws: TextError.self) { try vocabulary.encode("he\n") }
    #expect(newline?.description.contains("U+000A") == true)
  }

  @Test("metadata/round trip for characters and bytes")
  func metadataRoundTrip() throws {
    let text = "\u{0}\"\\/é日🙂<start>\t\n"
    let characters = try Vocabulary(kind: .characters, text: Array(text.utf8))
    for vocabulary in [characters, Vocabulary.bytes] {
      let metadata = vocabulary.metadata
      #expect(metadata["vocabulary.kind"] == vocabulary.kind.rawValue)
      let parsed = try JSONSerialization.jsonObject(with: Data(metadata["vocabulary.tokens"]!.utf8)) as? [String]
      #expect(parsed == vocabulary.tokens)
      let restored = try Vocabulary(metadata: metadata)
      #expect(restored == vocabulary)
    }
    #expect(try Vocabulary(metadata: characters.metadata).encode(text) == characters.encode(text))
  }

  @Test("metadata/malformed vocabularies are rejected")
  func malformedMetadata() throws {
    #expect(throws: TextError.self) { try Vocabulary(metadata: ["vocabulary.kind": "words", "vocabulary.tokens": "[]"]) }
    #expect(throws: TextError.self) { try Vocabulary(kind: .characters, tokens: ["a", "b"]) }
    #expect(throws: TextError.self) { try Vocabulary(kind: .characters, tokens: ["ab", "<start>", "<end>"]) }
    #expect(throws: TextError.self) { try Vocabulary(kind: .characters, tokens: ["a", "a", "<start>", "<end>"]) }
    #expect(throws: TextError.self) { try Vocabulary(kind: .bytes, tokens: ["a", "<start>", "<end>"]) }
    #expect(throws: TextError.self) {
      try Vocabulary(metadata: ["vocabulary.kind": "characters", "vocabulary.tokens": "{\"a\": 1}"])
    }
  }
}

import Foundation
import Testing

@testable import Recur

@Suite("Token files and compact token sequences")
struct TokenFileTests {
  static let text = "Spring — über alles\nthe quick brown fox\n日本語 and more\n"

  @Test("A token file holds the vocabulary and the ids of the text, written in pieces that never cut a character")
  func roundTrip() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Long enough for several pieces? The writer's pieces are 64 MiB; the cut is tested directly below.
    let source = folder.appendingPathComponent("text.txt"), output = folder.appendingPathComponent("text.tokens")
    try Data(String(repeating: Self.text, count: 50).utf8).write(to: source)
    let (vocabulary, count) = try TokenFile.write(text: source, kind: .characters, to: output)
    let expected = try Corpus(contentsOf: source, kind: .characters)
    #expect(vocabulary == expected.vocabulary)
    #expect(count == expected.tokens.count)
    #expect(TokenFile.isTokenFile(output) && !TokenFile.isTokenFile(source))
    let file = try TokenFile(contentsOf: output)
    #expect(file.vocabulary == expected.vocabulary)
    #expect(file.tokens.idBytes == 2)
    #expect(Array(file.tokens) == expected.tokens)
    #expect(Array(file.tokens.slice(5..<17)) == Array(expected.tokens[5..<17]))
    #expect(throws: TextError.self) { try TokenFile(contentsOf: source) }
  }

  @Test("Pieces end before a UTF-8 continuation byte")
  func pieces() {
    let bytes = Array(Self.text.utf8)
    var start = 0
    var ends: [Int] = []
    while start < bytes.count {
      let end = TokenSequence.pieceEnd(bytes, from: start, maximum: 3, kind: .characters)
      #expect(end > start)
      if end < bytes.count { #expect(bytes[end] & 0xC0 != 0x80) }
      ends.append(end)
      start = end
    }
    #expect(ends.last == bytes.count)
  }

  @Test("Encoding in 16 bits gives the ids of the plain encoder; the same stream batches")
  func compactEncoding() throws {
    let bytes = Array(String(repeating: Self.text, count: 20).utf8)
    let vocabulary = try Vocabulary(kind: .characters, text: bytes)
    let compact = try TokenSequence(encoding: bytes, with: vocabulary)
    let plain = try vocabulary.encode(utf8: bytes)
    #expect(compact.idBytes == 2 && Array(compact) == plain)
    let a = try StreamBatches(tokens: plain, batchSize: 3, steps: 5)
    var b = try StreamBatches(tokens: compact, batchSize: 3, steps: 5)
    let x: StreamBatches.Chunk<Float> = a.chunk(at: .init(epoch: 0, chunk: 2))
    let y: StreamBatches.Chunk<Float> = b.chunk(at: .init(epoch: 0, chunk: 2))
    #expect(x.batch == y.batch)
    // A rank that owns streams 1..<3 reads only those rows.
    b.ownedStreams = 1..<3
    let z: StreamBatches.Chunk<Float> = b.chunk(at: .init(epoch: 0, chunk: 2))
    #expect(z.batch.rows(1..<3) == x.batch.rows(1..<3))
    #expect(TokenSequence([1, 70_000]).idBytes == 4 && Array(TokenSequence([1, 70_000])) == [1, 70_000])
  }
}

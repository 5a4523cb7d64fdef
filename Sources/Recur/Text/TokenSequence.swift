import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Token ids c_1 … c_n stored compactly: 16 bits per id when the vocabulary has at most 65 536 tokens, else
/// 32, in memory or mapped from a prepared token file (``TokenFile``), so that a text larger than memory can
/// be trained on. Slicing (``slice(_:)``) shares the storage; only the pages of the ids actually read are
/// brought into memory.
public struct TokenSequence: RandomAccessCollection, Sendable, Equatable {
  /// The storage: an array, or a read-only mapping of a file.
  final class Storage: @unchecked Sendable {
    let pointer: UnsafeRawPointer
    let idBytes: Int
    private let release: () -> Void
    init(pointer: UnsafeRawPointer, idBytes: Int, release: @escaping () -> Void) {
      self.pointer = pointer
      self.idBytes = idBytes
      self.release = release
    }
    deinit { release() }
  }

  let storage: Storage
  /// The first id of this sequence in the storage, and the number of ids.
  let offset: Int
  public let count: Int

  /// Ids below 65 536 in 16 bits each (else 32).
  public init(_ ids: [Int32]) {
    let wide = ids.contains { $0 < 0 || $0 > 0xFFFF }
    let idBytes = wide ? 4 : 2
    let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(ids.count * idBytes, 1), alignment: 8)
    if wide {
      ids.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: ids.count * 4) }
    } else {
      let p = raw.bindMemory(to: UInt16.self, capacity: ids.count)
      for (i, id) in ids.enumerated() { p[i] = UInt16(id) }
    }
    storage = Storage(pointer: UnsafeRawPointer(raw), idBytes: idBytes, release: { raw.deallocate() })
    offset = 0
    count = ids.count
  }

  init(storage: Storage, offset: Int, count: Int) {
    self.storage = storage
    self.offset = offset
    self.count = count
  }

  /// Bytes per id: 2 or 4.
  public var idBytes: Int { storage.idBytes }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  @inlinable public func index(after i: Int) -> Int { i + 1 }
  @inlinable public func index(before i: Int) -> Int { i - 1 }

  public subscript(i: Int) -> Int32 {
    precondition(i >= 0 && i < count, "token index \(i) is outside 0..<\(count)")
    let j = offset + i
    return storage.idBytes == 2
      ? Int32(storage.pointer.load(fromByteOffset: j * 2, as: UInt16.self))
      : storage.pointer.load(fromByteOffset: j * 4, as: Int32.self)
  }

  /// The ids `range` (indices of this sequence), sharing the storage.
  public func slice(_ range: Range<Int>) -> TokenSequence {
    precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice \(range) is outside 0..<\(count)")
    return TokenSequence(storage: storage, offset: offset + range.lowerBound, count: range.count)
  }

  public static func == (a: TokenSequence, b: TokenSequence) -> Bool {
    a.count == b.count && (a.storage === b.storage && a.offset == b.offset || a.elementsEqual(b))
  }

  /// The text encoded piece by piece (about 16 MiB of text at a time), never holding 32-bit ids for all of it:
  /// 16 bits per id when the vocabulary fits.
  public init(encoding text: [UInt8], with vocabulary: Vocabulary) throws {
    let idBytes = vocabulary.count <= 0x10000 ? 2 : 4
    // At most one id per byte of text: allocate for that, fill piece by piece.
    let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(text.count * idBytes, 1), alignment: 8)
    var n = 0
    var start = 0
    do {
      while start < text.count {
        let end = Self.pieceEnd(text, from: start, maximum: 16 << 20, kind: vocabulary.kind)
        let piece = try vocabulary.encode(utf8: text[start..<end])
        if idBytes == 2 {
          let p = raw.bindMemory(to: UInt16.self, capacity: text.count)
          for (i, id) in piece.enumerated() { p[n + i] = UInt16(id) }
        } else {
          piece.withUnsafeBytes { if let b = $0.baseAddress { (raw + n * 4).copyMemory(from: b, byteCount: $0.count) } }
        }
        n += piece.count
        start = end
      }
    } catch {
      raw.deallocate()
      throw error
    }
    storage = Storage(pointer: UnsafeRawPointer(raw), idBytes: idBytes, release: { raw.deallocate() })
    offset = 0
    count = n
  }

  /// Where a piece of at most `maximum` bytes starting at `start` may end: not inside a UTF-8 sequence.
  static func pieceEnd(_ text: some RandomAccessCollection<UInt8>, from start: Int, maximum: Int, kind: Vocabulary.Kind) -> Int {
    let base = text.startIndex
    let n = text.count
    var end = Swift.min(start + maximum, n)
    if kind == .characters {
      // Back off over continuation bytes (10xxxxxx) so that a character is never cut.
      while end < n, end > start, text[text.index(base, offsetBy: end)] & 0xC0 == 0x80 { end -= 1 }
      if end == start { end = Swift.min(start + maximum, n) }
    }
    return end
  }

  /// Appends ids as little-endian integers of `idBytes` bytes.
  static func append(_ ids: [Int32], idBytes: Int, to bytes: inout [UInt8]) {
    bytes.reserveCapacity(bytes.count + ids.count * idBytes)
    if idBytes == 2 {
      for id in ids {
        let v = UInt16(truncatingIfNeeded: id)
        bytes.append(UInt8(v & 0xFF))
        bytes.append(UInt8(v >> 8))
      }
    } else {
      for id in ids { withUnsafeBytes(of: id.littleEndian) { bytes.append(contentsOf: $0) } }
    }
  }
}

/// A prepared corpus: a vocabulary and the token ids of a text, written once by ``write(text:kind:vocabulary:to:)``
/// (streaming the text, never loading it whole) and read by memory-mapping (``init(contentsOf:)``), so that
/// a text larger than memory trains with only the pages of the streams in use resident.
///
/// Format (little-endian): the 8 bytes `RECURTOK`, a UInt64 n, n bytes of JSON
/// (`{"vocabulary": {…checkpoint metadata…}, "id_bytes": 2 or 4, "count": N}`), zero padding to a multiple of
/// 8 bytes, then N ids of `id_bytes` bytes each.
public struct TokenFile: Sendable {
  /// The vocabulary the ids refer to.
  public let vocabulary: Vocabulary
  /// The ids, mapped from the file.
  public let tokens: TokenSequence

  /// The first 8 bytes of a token file.
  public static let magic = Array("RECURTOK".utf8)

  /// Whether the file at `url` starts as a token file does.
  public static func isTokenFile(_ url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
    defer { try? handle.close() }
    return (try? handle.read(upToCount: 8)).map { [UInt8]($0) == magic } ?? false
  }

  /// Maps a token file.
  ///
  /// - Throws: ``TextError/invalid(_:)`` for a file that is not a token file or is cut short.
  public init(contentsOf url: URL) throws {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw TextError.invalid("cannot open \(url.path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw TextError.invalid("cannot read \(url.path)") }
    let size = Int(info.st_size)
    guard size >= 16 else { throw TextError.invalid("\(url.path) is not a token file (too short)") }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
      throw TextError.invalid("cannot map \(url.path): \(String(cString: strerror(errno)))")
    }
    let base = UnsafeRawPointer(mapped)
    let storage = TokenSequence.Storage(pointer: base, idBytes: 2, release: { munmap(mapped, size) })
    guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == Self.magic else {
      throw TextError.invalid("\(url.path) is not a token file written by recur prepare")
    }
    let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    guard headerLength > 0, 16 + headerLength <= size else { throw TextError.invalid("\(url.path): the token file's header is cut short") }
    let json = Data(UnsafeRawBufferPointer(start: base + 16, count: headerLength))
    guard let header = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
      let metadata = header["vocabulary"] as? [String: String], let idBytes = header["id_bytes"] as? Int,
      let count = header["count"] as? Int, idBytes == 2 || idBytes == 4, count >= 0
    else { throw TextError.invalid("\(url.path): the token file's header is not valid") }
    let dataOffset = (16 + headerLength + 7) / 8 * 8
    guard dataOffset + count * idBytes <= size else {
      throw TextError.invalid("\(url.path): the token file holds fewer ids than its header says (\(count))")
    }
    vocabulary = try Vocabulary(metadata: metadata)
    guard idBytes == 4 || vocabulary.count <= 0x10000 else { throw TextError.invalid("\(url.path): 16-bit ids for a vocabulary of \(vocabulary.count)") }
    let ids = TokenSequence.Storage(pointer: base + dataOffset, idBytes: idBytes, release: { _ = storage })
    tokens = TokenSequence(storage: ids, offset: 0, count: count)
  }

  /// Writes the token file of a text file, reading the text twice in pieces (once for the vocabulary, once to
  /// encode it) and writing the ids as they are made; the result replaces `output` atomically.
  ///
  /// - Returns: the vocabulary and the number of ids.
  @discardableResult
  public static func write(text url: URL, kind: Vocabulary.Kind, vocabulary given: Vocabulary? = nil, to output: URL) throws
    -> (vocabulary: Vocabulary, count: Int)
  {
    let piece = 64 << 20
    func pieces(_ body: ([UInt8]) throws -> Void) throws {
      guard let handle = FileHandle(forReadingAtPath: url.path) else {
        throw TextError.invalid("cannot read \(url.path)")
      }
      defer { try? handle.close() }
      var carry: [UInt8] = []
      while true {
        let data = try handle.read(upToCount: piece) ?? Data()
        var bytes = carry + [UInt8](data)
        carry = []
        if data.isEmpty {
          if !bytes.isEmpty { try body(bytes) }
          return
        }
        let end = TokenSequence.pieceEnd(bytes, from: 0, maximum: bytes.count - 1, kind: kind)
        if end < bytes.count, end > 0 {
          carry = Array(bytes[end...])
          bytes.removeSubrange(end...)
        }
        try body(bytes)
      }
    }
    // Pass 1: the vocabulary.
    let vocabulary: Vocabulary
    if let given {
      vocabulary = given
    } else if kind == .bytes {
      vocabulary = .bytes
    } else {
      var seen = Set<Unicode.Scalar>()
      try pieces { seen.formUnion(try Vocabulary(kind: .characters, text: $0).symbols) }
      vocabulary = Vocabulary(characters: seen)
    }
    // Pass 2: the ids, into a temporary file beside the output.
    let idBytes = vocabulary.count <= 0x10000 ? 2 : 4
    let temporary = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(getpid()).tmp")
    _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
    guard let out = FileHandle(forWritingAtPath: temporary.path) else {
      throw TextError.invalid("cannot write \(temporary.path)")
    }
    var count = 0
    do {
      // The header is written last (its count is known then); reserve room for it first.
      let metadataJSON = try JSONSerialization.data(withJSONObject: vocabulary.metadata, options: [.sortedKeys])
      func header(count: Int) -> [UInt8] {
        let digits = String(count)
        let json = Array(#"{"count":"#.utf8) + Array((String(repeating: " ", count: 20 - digits.count) + digits).utf8)
          + Array(#","id_bytes":\#(idBytes),"vocabulary":"#.utf8) + [UInt8](metadataJSON) + Array("}".utf8)
        var bytes = magic
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        return bytes
      }
      try out.write(contentsOf: Data(header(count: 0)))
      try pieces { bytes in
        let ids = try vocabulary.encode(utf8: bytes)
        var encoded: [UInt8] = []
        TokenSequence.append(ids, idBytes: idBytes, to: &encoded)
        try out.write(contentsOf: Data(encoded))
        count += ids.count
      }
      try out.seek(toOffset: 0)
      try out.write(contentsOf: Data(header(count: count)))
      try out.synchronize()
      try out.close()
      if rename(temporary.path, output.path) != 0 {
        throw TextError.invalid("cannot write \(output.path): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? out.close()
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
    return (vocabulary, count)
  }
}

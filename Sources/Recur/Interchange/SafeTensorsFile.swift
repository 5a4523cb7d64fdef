import Foundation

/// The contents of a safetensors file: named tensors (dtype, shape, raw little-endian bytes) and a
/// string-to-string metadata map.
///
/// The format (as in Hugging Face's `safetensors`): an 8-byte little-endian unsigned header length `N`,
/// then `N` bytes of UTF-8 JSON mapping each tensor name to `{"dtype", "shape", "data_offsets"}` plus an
/// optional `"__metadata__"` object of strings, then the data buffer. Offsets are relative to the start of
/// the buffer; tensors are row-major and little-endian, and together cover the buffer exactly.
///
/// Reading validates the whole file before anything is returned and throws a `SafeTensorsError` that
/// names the first problem; no input makes it trap. Writing lays the file out as the reference Python
/// library does — tensors by decreasing element alignment, then by name (byte order), so every tensor is
/// aligned to its element size; metadata keys sorted; header padded with spaces to a multiple of 8 bytes —
/// so the same contents always give the same bytes.
///
/// Tensor names are Swift strings, compared with Unicode canonical equivalence: two names that differ only
/// in normalization (precomposed "é" and "e" + combining accent) count as the same name, and a header that
/// has both is rejected as a duplicate.
public struct SafeTensorsFile: Sendable, Equatable {
  /// One tensor: its element type, shape, and raw row-major little-endian bytes.
  public struct Entry: Sendable, Equatable {
    /// The element type.
    public let dtype: SafeTensorsDType
    /// The size of each dimension, outermost first (`[]` for a scalar).
    public let shape: [Int]
    /// The elements, row-major, little-endian; `bytes.count == elementCount * dtype.byteSize`.
    public let bytes: Data

    /// The number of elements (the product of `shape`).
    public var elementCount: Int { bytes.count / dtype.byteSize }

    /// An entry from raw bytes, checked against the shape.
    ///
    /// - Parameters:
    ///   - dtype: The element type of `bytes`.
    ///   - shape: Non-negative dimensions whose product times `dtype.byteSize` is `bytes.count`.
    ///   - bytes: Row-major little-endian elements.
    public init(dtype: SafeTensorsDType, shape: [Int], bytes: Data) throws(SafeTensorsError) {
      let expected = try Self.byteCount(dtype: dtype, shape: shape, name: "")
      guard expected == bytes.count else {
        throw .byteCountMismatch(tensor: "", expected: expected, actual: bytes.count)
      }
      self.init(unchecked: dtype, shape: shape, bytes: bytes)
    }

    init(unchecked dtype: SafeTensorsDType, shape: [Int], bytes: Data) {
      self.dtype = dtype
      self.shape = shape
      // Rebase slices so that indices always start at zero.
      self.bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
    }

    /// The number of elements of `shape`, checked for negative dimensions and overflow.
    static func elementCount(shape: [Int], name: String) throws(SafeTensorsError) -> Int {
      var count = 1
      for (index, dimension) in shape.enumerated() {
        guard dimension >= 0 else { throw .invalidDimension(tensor: name, index: index, literal: String(dimension)) }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw .shapeOverflow(tensor: name, shape: shape) }
        count = product
      }
      return count
    }

    /// The number of bytes of `shape` elements of `dtype`, checked for overflow.
    static func byteCount(dtype: SafeTensorsDType, shape: [Int], name: String) throws(SafeTensorsError) -> Int {
      let (bytes, overflow) = try elementCount(shape: shape, name: name).multipliedReportingOverflow(by: dtype.byteSize)
      guard !overflow else { throw .shapeOverflow(tensor: name, shape: shape) }
      return bytes
    }
  }

  /// The largest header accepted when reading, in bytes (as the reference implementation: 100 MB).
  public static let maximumHeaderLength = 100_000_000

  /// The key of the metadata object in the header; no tensor may have this name.
  public static let metadataKey = "__metadata__"

  /// Free-form string metadata, stored under `__metadata__` (omitted from the file when empty).
  public var metadata: [String: String]

  private var entries: [String: Entry] = [:]

  /// An empty file with the given metadata.
  public init(metadata: [String: String] = [:]) {
    self.metadata = metadata
  }

  /// The tensor names in file order: decreasing element alignment, then name (UTF-8 byte order).
  public var names: [String] {
    entries.keys.sorted { lhs, rhs in
      guard let left = entries[lhs], let right = entries[rhs] else { return lhs < rhs }
      if left.dtype.layoutRank != right.dtype.layoutRank {
        return left.dtype.layoutRank > right.dtype.layoutRank
      }
      return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
  }

  /// The number of tensors.
  public var count: Int { entries.count }

  /// The tensor with the given name, or `nil`.
  public func entry(named name: String) -> Entry? {
    entries[name]
  }

  /// The tensor with the given name.
  ///
  /// - Throws: `SafeTensorsError.tensorNotFound`.
  public func requireEntry(named name: String) throws(SafeTensorsError) -> Entry {
    guard let entry = entries[name] else { throw .tensorNotFound(name) }
    return entry
  }

  /// Adds a tensor.
  ///
  /// - Parameters:
  ///   - entry: The tensor.
  ///   - name: A name not yet used and other than `__metadata__`.
  /// - Throws: `SafeTensorsError.duplicateTensorName` or `.reservedName`.
  public mutating func add(_ entry: Entry, named name: String) throws(SafeTensorsError) {
    guard name != Self.metadataKey else { throw .reservedName(name) }
    guard entries[name] == nil else { throw .duplicateTensorName(name) }
    entries[name] = entry
  }

  /// Removes and returns the tensor with the given name, if there is one.
  @discardableResult
  public mutating func removeEntry(named name: String) -> Entry? {
    entries.removeValue(forKey: name)
  }
}

// MARK: - Reading

extension SafeTensorsFile {
  /// Reads and validates a safetensors file.
  ///
  /// - Parameter url: A file URL.
  /// - Throws: `SafeTensorsError.cannotRead`, or the first validation problem found.
  public init(contentsOf url: URL) throws(SafeTensorsError) {
    let data: Data
    do {
      data = try AtomicFile.read(from: url)
    } catch {
      throw .cannotRead(path: url.path, reason: String(cString: strerror(error.code)))
    }
    try self.init(serialized: data)
  }

  /// Parses and validates the bytes of a safetensors file.
  ///
  /// - Parameter data: The whole file.
  /// - Throws: The first validation problem found, as a `SafeTensorsError`.
  public init(serialized data: Data) throws(SafeTensorsError) {
    var result: Result<SafeTensorsFile, SafeTensorsError> = .failure(.fileTooShort(byteCount: 0))
    data.withUnsafeBytes { raw in
      result = Result { () throws(SafeTensorsError) in try Self.parse(raw) }
    }
    self = try result.get()
  }

  /// A tensor entry as declared in the header, before its bytes are checked.
  private struct Declaration {
    var name: String
    var dtype: SafeTensorsDType
    var shape: [Int]
    var begin: Int
    var end: Int
  }

  private static func parse(_ raw: UnsafeRawBufferPointer) throws(SafeTensorsError) -> SafeTensorsFile {
    guard raw.count >= 8 else { throw .fileTooShort(byteCount: raw.count) }
    let headerLength = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    guard headerLength <= UInt64(maximumHeaderLength) else {
      throw .headerTooLarge(length: headerLength, limit: maximumHeaderLength)
    }
    // Now headerLength fits in Int.
    let available = raw.count - 8
    guard Int(headerLength) <= available else { throw .headerPastEnd(length: headerLength, available: available) }
    let headerEnd = 8 + Int(headerLength)
    let header = [UInt8](raw[8..<headerEnd])
    guard String(validating: header, as: UTF8.self) != nil else { throw .headerNotUTF8 }

    let root = try SafeTensorsJSONParser.parse(header)
    guard case .object(let members) = root else { throw .headerNotObject(found: root.kind) }

    var file = SafeTensorsFile()
    var declarations: [Declaration] = []
    declarations.reserveCapacity(members.count)
    for (name, value) in members {
      if name == metadataKey {
        file.metadata = try parseMetadata(value)
      } else {
        declarations.append(try parseDeclaration(name: name, value))
      }
    }

    let bufferSize = raw.count - headerEnd
    for declaration in declarations {
      try check(declaration, bufferSize: bufferSize)
    }
    try checkCoverage(declarations, bufferSize: bufferSize)

    for declaration in declarations {
      let start = headerEnd + declaration.begin
      let bytes = Data(raw[start..<(start + declaration.end - declaration.begin)])
      file.entries[declaration.name] = Entry(unchecked: declaration.dtype, shape: declaration.shape, bytes: bytes)
    }
    return file
  }

  private static func parseMetadata(_ value: SafeTensorsJSON) throws(SafeTensorsError) -> [String: String] {
    guard case .object(let members) = value else { throw .metadataNotObject(found: value.kind) }
    var metadata: [String: String] = [:]
    for (key, value) in members {
      guard case .string(let string) = value else {
        throw .metadataValueNotString(key: key, found: value.kind)
      }
      metadata[key] = string
    }
    return metadata
  }

  private static func parseDeclaration(name: String, _ value: SafeTensorsJSON) throws(SafeTensorsError) -> Declaration {
    guard case .object(let fields) = value else { throw .entryNotObject(tensor: name, found: value.kind) }
    var dtypeValue: SafeTensorsJSON?
    var shapeValue: SafeTensorsJSON?
    var offsetsValue: SafeTensorsJSON?
    for (field, value) in fields {
      switch field {
      case "dtype": dtypeValue = value
      case "shape": shapeValue = value
      case "data_offsets": offsetsValue = value
      default: throw .unexpectedField(tensor: name, field: field)
      }
    }
    guard let dtypeValue else { throw .missingField(tensor: name, field: "dtype") }
    guard let shapeValue else { throw .missingField(tensor: name, field: "shape") }
    guard let offsetsValue else { throw .missingField(tensor: name, field: "data_offsets") }

    guard case .string(let dtypeName) = dtypeValue else {
      throw .wrongFieldType(tensor: name, field: "dtype", expected: "a string")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw .unknownDType(tensor: name, dtype: String(dtypeName.prefix(32)))
    }

    guard case .array(let dimensions) = shapeValue else {
      throw .wrongFieldType(tensor: name, field: "shape", expected: "an array of integers")
    }
    var shape: [Int] = []
    shape.reserveCapacity(dimensions.count)
    for (index, dimension) in dimensions.enumerated() {
      guard case .number(let literal, let integer) = dimension else {
        throw .wrongFieldType(tensor: name, field: "shape", expected: "an array of integers")
      }
      guard let integer, integer >= 0 else {
        throw .invalidDimension(tensor: name, index: index, literal: String(literal.prefix(32)))
      }
      shape.append(integer)
    }

    guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
      throw .wrongFieldType(tensor: name, field: "data_offsets", expected: "an array of two integers")
    }
    var bounds: [Int] = []
    for offset in offsets {
      guard case .number(let literal, let integer) = offset else {
        throw .wrongFieldType(tensor: name, field: "data_offsets", expected: "an array of two integers")
      }
      guard let integer, integer >= 0 else {
        throw .invalidOffset(tensor: name, literal: String(literal.prefix(32)))
      }
      bounds.append(integer)
    }
    return Declaration(name: name, dtype: dtype, shape: shape, begin: bounds[0], end: bounds[1])
  }

  private static func check(_ declaration: Declaration, bufferSize: Int) throws(SafeTensorsError) {
    let name = declaration.name
    guard declaration.begin <= declaration.end else {
      throw .offsetsReversed(tensor: name, begin: declaration.begin, end: declaration.end)
    }
    guard declaration.end <= bufferSize else {
      throw .offsetsOutOfRange(tensor: name, end: declaration.end, bufferSize: bufferSize)
    }
    let expected = try Entry.byteCount(dtype: declaration.dtype, shape: declaration.shape, name: name)
    let actual = declaration.end - declaration.begin
    guard expected == actual else { throw .byteCountMismatch(tensor: name, expected: expected, actual: actual) }
  }

  /// Checks that the byte ranges, in offset order, tile the buffer with no gap or overlap.
  private static func checkCoverage(_ declarations: [Declaration], bufferSize: Int) throws(SafeTensorsError) {
    let ordered = declarations.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    var expected = 0
    var previous: String?
    for declaration in ordered {
      if declaration.begin < expected, let previous {
        throw .overlappingTensors(tensor: declaration.name, other: previous)
      }
      if declaration.begin > expected {
        throw .gapBeforeTensor(tensor: declaration.name, begin: declaration.begin, expected: expected)
      }
      expected = declaration.end
      previous = declaration.name
    }
    if expected != bufferSize {
      throw .trailingBytes(count: bufferSize - expected)
    }
  }
}

// MARK: - Writing

extension SafeTensorsFile {
  /// The bytes of the file: header length, header, data buffer (see the type's layout rules).
  public func serialized() -> Data {
    let order = names
    var header = "{"
    var members: [String] = []
    if !metadata.isEmpty {
      let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      let pairs = keys.map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0] ?? ""))" }
      members.append("\(Self.jsonString(Self.metadataKey)):{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for name in order {
      guard let entry = entries[name] else { continue }
      let end = offset + entry.bytes.count
      let shape = entry.shape.map(String.init).joined(separator: ",")
      members.append(
        "\(Self.jsonString(name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
          + "\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    header += members.joined(separator: ",") + "}"
    var headerBytes = Array(header.utf8)
    while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }

    var data = Data(capacity: 8 + headerBytes.count + offset)
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    for name in order {
      if let entry = entries[name] { data.append(entry.bytes) }
    }
    return data
  }

  /// Writes the file atomically (see `AtomicFile.write(_:to:)`): `url` holds either its old contents or
  /// the new file, whole, whatever happens during the write.
  ///
  /// - Throws: `AtomicFileError`.
  public func write(to url: URL) throws(AtomicFileError) {
    try AtomicFile.write(serialized(), to: url)
  }

  /// A JSON string literal escaped as serde_json does: quote, backslash and control characters only.
  static func jsonString(_ string: String) -> String {
    var result = "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\u{08}": result += "\\b"
      case "\u{0C}": result += "\\f"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case "\u{00}"..."\u{1F}":
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}

/// A JSON value as read from a safetensors header, with object members kept in file order.
///
/// The header parser is deliberately strict (RFC 8259, no extensions) and keeps every member of an
/// object, so that duplicate keys — which `JSONSerialization` silently collapses — are reported instead
/// of resolved by chance.
enum SafeTensorsJSON: Sendable {
  case object([(key: String, value: SafeTensorsJSON)])
  case array([SafeTensorsJSON])
  case string(String)
  /// A number: its literal text, and its value when the literal is an integer (no fraction, no
  /// exponent) that fits in `Int`.
  case number(literal: String, integer: Int?)
  case bool(Bool)
  case null

  /// A short name of the value's kind, for error messages.
  var kind: String {
    switch self {
    case .object: "object"
    case .array: "array"
    case .string: "string"
    case .number: "number"
    case .bool: "boolean"
    case .null: "null"
    }
  }
}

/// A strict recursive-descent JSON parser over UTF-8 bytes.
///
/// Nesting is limited to `maximumDepth` levels so that hostile input cannot exhaust the stack. Errors are
/// thrown as `SafeTensorsError.invalidJSON` with the byte offset into the header.
struct SafeTensorsJSONParser {
  /// The deepest nesting accepted; a valid safetensors header needs 3 levels.
  static let maximumDepth = 64

  private let bytes: [UInt8]
  private var position = 0

  private init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Parses one JSON value that may be surrounded by JSON whitespace (spaces pad safetensors headers).
  static func parse(_ bytes: [UInt8]) throws(SafeTensorsError) -> SafeTensorsJSON {
    var parser = SafeTensorsJSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.position != bytes.count {
      throw parser.failure("unexpected data after the top-level value")
    }
    return value
  }

  private func failure(_ reason: String) -> SafeTensorsError {
    .invalidJSON(offset: position, reason: reason)
  }

  private var current: UInt8? {
    position < bytes.count ? bytes[position] : nil
  }

  private mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
      position += 1
    }
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws(SafeTensorsError) {
    guard current == byte else {
      throw failure(current == nil ? "unexpected end, expected \(what)" : "expected \(what)")
    }
    position += 1
  }

  private mutating func parseValue(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
    guard let byte = current else { throw failure("unexpected end, expected a value") }
    switch byte {
    case UInt8(ascii: "{"):
      guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
      return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["):
      guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
      return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try parseNumber()
    case UInt8(ascii: "t"):
      try parseLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try parseLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try parseLiteral("null")
      return .null
    default:
      throw failure("unexpected character, expected a value")
    }
  }

  private mutating func parseLiteral(_ literal: StaticString) throws(SafeTensorsError) {
    let start = position
    let count = literal.utf8CodeUnitCount
    let matches = literal.withUTF8Buffer { expected -> Bool in
      guard bytes.count - start >= count else { return false }
      for index in 0..<count where bytes[start + index] != expected[index] { return false }
      return true
    }
    guard matches else { throw failure("invalid literal") }
    position += count
  }

  private mutating func parseObject(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
    try expect(UInt8(ascii: "{"), "'{'")
    var members: [(key: String, value: SafeTensorsJSON)] = []
    var seen = Set<String>()
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
      let keyOffset = position
      let key = try parseString()
      guard seen.insert(key).inserted else {
        throw SafeTensorsError.duplicateKey(key, offset: keyOffset)
      }
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "':'")
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append((key, value))
      skipWhitespace()
      guard let byte = current else { throw failure("unexpected end, expected ',' or '}'") }
      position += 1
      if byte == UInt8(ascii: "}") { return .object(members) }
      guard byte == UInt8(ascii: ",") else {
        position -= 1
        throw failure("expected ',' or '}'")
      }
    }
  }

  private mutating func parseArray(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
    try expect(UInt8(ascii: "["), "'['")
    var elements: [SafeTensorsJSON] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      guard let byte = current else { throw failure("unexpected end, expected ',' or ']'") }
      position += 1
      if byte == UInt8(ascii: "]") { return .array(elements) }
      guard byte == UInt8(ascii: ",") else {
        position -= 1
        throw failure("expected ',' or ']'")
      }
    }
  }

  private mutating func parseHexQuad() throws(SafeTensorsError) -> UInt32 {
    guard bytes.count - position >= 4 else { throw failure("unexpected end in a \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
      default: throw failure("invalid hexadecimal digit in a \\u escape")
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }

  private mutating func parseString() throws(SafeTensorsError) -> String {
    try expect(UInt8(ascii: "\""), "'\"'")
    var utf8: [UInt8] = []
    while true {
      guard let byte = current else { throw failure("unterminated string") }
      position += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard let string = String(validating: utf8, as: UTF8.self) else {
          throw failure("string is not valid UTF-8")
        }
        return string
      case UInt8(ascii: "\\"):
        guard let escape = current else { throw failure("unterminated escape") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""): utf8.append(0x22)
        case UInt8(ascii: "\\"): utf8.append(0x5C)
        case UInt8(ascii: "/"): utf8.append(0x2F)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
          var code = try parseHexQuad()
          if (0xD800..<0xDC00).contains(code) {
            guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
              bytes[position + 1] == UInt8(ascii: "u")
            else { throw failure("unpaired surrogate in a \\u escape") }
            position += 2
            let low = try parseHexQuad()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in a \\u escape") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00..<0xE000).contains(code) {
            throw failure("unpaired surrogate in a \\u escape")
          }
          guard let scalar = Unicode.Scalar(code) else { throw failure("invalid code point in a \\u escape") }
          utf8.append(contentsOf: UTF8.encode(scalar).map { Array($0) } ?? [])
        default:
          position -= 1
          throw failure("invalid escape character")
        }
      case 0x00..<0x20:
        position -= 1
        throw failure("unescaped control character in a string")
      default:
        utf8.append(byte)
      }
    }
  }

  private mutating func parseNumber() throws(SafeTensorsError) -> SafeTensorsJSON {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
      throw failure("expected a digit")
    }
    if first == UInt8(ascii: "0") {
      position += 1
    } else {
      skipDigits()
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard skipRequiredDigits() else { throw failure("expected a digit after '.'") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard skipRequiredDigits() else { throw failure("expected a digit in the exponent") }
    }
    // The literal is ASCII by construction.
    let literal = String(decoding: bytes[start..<position], as: UTF8.self)
    return .number(literal: literal, integer: isInteger ? Int(literal) : nil)
  }

  private mutating func skipDigits() {
    while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
      position += 1
    }
  }

  /// Skips one or more digits; false if there is none.
  private mutating func skipRequiredDigits() -> Bool {
    let start = position
    skipDigits()
    return position > start
  }
}

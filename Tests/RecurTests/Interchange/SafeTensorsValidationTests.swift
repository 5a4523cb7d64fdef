import Foundation
import Testing

@testable import Recur

/// The bytes of a safetensors file with the given header text (unpadded) and data buffer.
func safeTensorsBytes(header: String, buffer: [UInt8] = []) -> Data {
  var data = Data()
  withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
  data.append(contentsOf: Array(header.utf8))
  data.append(contentsOf: buffer)
  return data
}

/// The error thrown when loading `data`, or nil if it loads.
func safeTensorsLoadError(_ data: Data) -> SafeTensorsError? {
  do {
    _ = try SafeTensorsFile(serialized: data)
    return nil
  } catch {
    return error
  }
}

/// One malformed file, the error it must produce, and a fragment of that error's message.
struct MalformedFile: Sendable, CustomTestStringConvertible {
  let label: String
  let data: Data
  let error: SafeTensorsError
  let message: String
  var testDescription: String { label }

  init(_ label: String, _ data: Data, _ error: SafeTensorsError, _ message: String) {
    self.label = label
    self.data = data
    self.error = error
    self.message = message
  }

  init(_ label: String, header: String, buffer: [UInt8] = [], _ error: SafeTensorsError, _ message: String) {
    self.init(label, safeTensorsBytes(header: header, buffer: buffer), error, message)
  }
}

private func entry(_ dtype: String = "F32", shape: String = "[1]", offsets: String = "[0,4]") -> String {
  "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

private let malformedFiles: [MalformedFile] = [
  // Framing.
  MalformedFile("empty file", Data(), .fileTooShort(byteCount: 0), "file is 0 bytes, shorter than the 8-byte header length"),
  MalformedFile("truncated length", Data([1, 0, 0, 0, 0]), .fileTooShort(byteCount: 5), "file is 5 bytes"),
  MalformedFile(
    "absurd header length", Data([0x01, 0xE1, 0xF5, 0x05, 0, 0, 0, 0]) + Data(count: 4),
    .headerTooLarge(length: 100_000_001, limit: 100_000_000), "header length 100000001 exceeds the limit"),
  MalformedFile(
    "header length of 2^64 - 1", Data(repeating: 0xFF, count: 8),
    .headerTooLarge(length: UInt64.max, limit: 100_000_000), "header length 18446744073709551615 exceeds"),
  MalformedFile(
    "header past end", Data([100, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8),
    .headerPastEnd(length: 100, available: 2), "header length 100 runs past the end of the file (2 bytes"),
  MalformedFile(
    "header not UTF-8", Data([4, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x22, 0xFF, 0x7D]), .headerNotUTF8,
    "header is not valid UTF-8"),
  MalformedFile(
    "truncated JSON", header: "{\"a\":", .invalidJSON(offset: 5, reason: "unexpected end, expected a value"),
    "header is not valid JSON at byte 5: unexpected end"),
  MalformedFile(
    "trailing comma", header: "{\"a\":" + entry() + ",}", buffer: [0, 0, 0, 0],
    .invalidJSON(offset: 54, reason: "expected a string key"), "not valid JSON at byte 54: expected a string key"),
  MalformedFile(
    "data after the object", header: "{} x", .invalidJSON(offset: 3, reason: "unexpected data after the top-level value"),
    "unexpected data after"),
  MalformedFile("leading zero", header: "{\"a\":01}", .invalidJSON(offset: 6, reason: "expected ',' or '}'"), "byte 6"),
  MalformedFile(
    "control character in a string", header: "{\"a\nb\":1}",
    .invalidJSON(offset: 3, reason: "unescaped control character in a string"), "unescaped control character"),
  MalformedFile(
    "unpaired surrogate", header: "{\"\\ud800x\":1}", .invalidJSON(offset: 8, reason: "unpaired surrogate in a \\u escape"),
    "unpaired surrogate"),
  MalformedFile(
    "bad escape", header: "{\"\\x\":1}", .invalidJSON(offset: 3, reason: "invalid escape character"), "invalid escape"),
  MalformedFile(
    "single quotes", header: "{'a':1}", .invalidJSON(offset: 1, reason: "expected a string key"), "expected a string key"),
  MalformedFile(
    "nesting too deep", header: "{\"__metadata__\":" + String(repeating: "[", count: 200_000),
    .invalidJSON(offset: 79, reason: "nesting deeper than 64 levels"), "nesting deeper than 64 levels"),
  MalformedFile("header is an array", header: "[]", .headerNotObject(found: "array"), "header is a JSON array, not an object"),
  MalformedFile("header is a string", header: "\"x\"", .headerNotObject(found: "string"), "header is a JSON string"),

  // Duplicates, which JSONSerialization would silently collapse.
  MalformedFile(
    "duplicate tensor names", header: "{\"w\":" + entry() + ",\"w\":" + entry() + "}", buffer: [0, 0, 0, 0],
    .duplicateKey("w", offset: 54), "duplicate key \"w\" in header at byte 54"),
  MalformedFile(
    "duplicate field", header: "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}",
    .duplicateKey("dtype", offset: 20), "duplicate key \"dtype\""),
  MalformedFile(
    "duplicate metadata key", header: "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", .duplicateKey("k", offset: 25),
    "duplicate key \"k\""),

  // Entries.
  MalformedFile("entry not an object", header: "{\"w\":3}", .entryNotObject(tensor: "w", found: "number"),
    "tensor \"w\": entry is a JSON number, not an object"),
  MalformedFile(
    "missing dtype", header: "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", buffer: [0, 0, 0, 0],
    .missingField(tensor: "w", field: "dtype"), "tensor \"w\": missing field \"dtype\""),
  MalformedFile(
    "missing data_offsets", header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", buffer: [0, 0, 0, 0],
    .missingField(tensor: "w", field: "data_offsets"), "missing field \"data_offsets\""),
  MalformedFile(
    "unexpected field", header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"stride\":[1]}}",
    buffer: [0, 0, 0, 0], .unexpectedField(tensor: "w", field: "stride"), "unexpected field \"stride\""),
  MalformedFile(
    "dtype not a string", header: "{\"w\":" + entry("F32").replacingOccurrences(of: "\"F32\"", with: "32") + "}",
    buffer: [0, 0, 0, 0], .wrongFieldType(tensor: "w", field: "dtype", expected: "a string"),
    "field \"dtype\" must be a string"),
  MalformedFile(
    "shape not an array", header: "{\"w\":" + entry(shape: "4") + "}", buffer: [0, 0, 0, 0],
    .wrongFieldType(tensor: "w", field: "shape", expected: "an array of integers"), "field \"shape\" must be an array"),
  MalformedFile(
    "shape of strings", header: "{\"w\":" + entry(shape: "[\"1\"]") + "}", buffer: [0, 0, 0, 0],
    .wrongFieldType(tensor: "w", field: "shape", expected: "an array of integers"), "must be an array of integers"),
  MalformedFile(
    "one offset", header: "{\"w\":" + entry(offsets: "[4]") + "}", buffer: [0, 0, 0, 0],
    .wrongFieldType(tensor: "w", field: "data_offsets", expected: "an array of two integers"),
    "field \"data_offsets\" must be an array of two integers"),
  MalformedFile(
    "unknown dtype", header: "{\"w\":" + entry("F8_E4M3") + "}", buffer: [0, 0, 0, 0],
    .unknownDType(tensor: "w", dtype: "F8_E4M3"), "tensor \"w\": unknown dtype \"F8_E4M3\""),
  MalformedFile(
    "lower-case dtype", header: "{\"w\":" + entry("f32") + "}", buffer: [0, 0, 0, 0],
    .unknownDType(tensor: "w", dtype: "f32"), "unknown dtype \"f32\""),
  MalformedFile(
    "negative dimension", header: "{\"w\":" + entry(shape: "[2,-1]") + "}", buffer: [0, 0, 0, 0],
    .invalidDimension(tensor: "w", index: 1, literal: "-1"), "shape entry 1 is -1, not a non-negative integer"),
  MalformedFile(
    "fractional dimension", header: "{\"w\":" + entry(shape: "[1.5]") + "}", buffer: [0, 0, 0, 0],
    .invalidDimension(tensor: "w", index: 0, literal: "1.5"), "shape entry 0 is 1.5"),
  MalformedFile(
    "exponent dimension", header: "{\"w\":" + entry(shape: "[1e0]") + "}", buffer: [0, 0, 0, 0],
    .invalidDimension(tensor: "w", index: 0, literal: "1e0"), "shape entry 0 is 1e0"),
  MalformedFile(
    "dimension past Int", header: "{\"w\":" + entry(shape: "[99999999999999999999]") + "}", buffer: [0, 0, 0, 0],
    .invalidDimension(tensor: "w", index: 0, literal: "99999999999999999999"), "is 99999999999999999999"),
  MalformedFile(
    "element count overflows", header: "{\"w\":" + entry(shape: "[4294967296,4294967296]") + "}",
    buffer: [0, 0, 0, 0], .shapeOverflow(tensor: "w", shape: [4_294_967_296, 4_294_967_296]),
    "shape [4294967296, 4294967296] is too large"),
  MalformedFile(
    "byte count overflows", header: "{\"w\":" + entry(shape: "[4611686018427387904]") + "}",
    buffer: [0, 0, 0, 0], .shapeOverflow(tensor: "w", shape: [4_611_686_018_427_387_904]), "is too large"),
  MalformedFile(
    "byte count mismatch", header: "{\"w\":" + entry(shape: "[2]") + "}", buffer: [0, 0, 0, 0],
    .byteCountMismatch(tensor: "w", expected: 8, actual: 4), "data_offsets cover 4 bytes but shape and dtype need 8"),
  MalformedFile(
    "negative offset", header: "{\"w\":" + entry(offsets: "[-4,0]") + "}", buffer: [0, 0, 0, 0],
    .invalidOffset(tensor: "w", literal: "-4"), "data offset -4 is not a non-negative integer"),
  MalformedFile(
    "offsets reversed", header: "{\"w\":" + entry(offsets: "[4,0]") + "}", buffer: [0, 0, 0, 0],
    .offsetsReversed(tensor: "w", begin: 4, end: 0), "data_offsets [4, 0] end before they begin"),
  MalformedFile(
    "offsets out of range", header: "{\"w\":" + entry(offsets: "[4,8]") + "}", buffer: [0, 0, 0, 0],
    .offsetsOutOfRange(tensor: "w", end: 8, bufferSize: 4), "data ends at byte 8, past the 4-byte data buffer"),
  MalformedFile(
    "huge offsets", header: "{\"w\":" + entry(offsets: "[9223372036854775803,9223372036854775807]") + "}",
    buffer: [0, 0, 0, 0], .offsetsOutOfRange(tensor: "w", end: Int.max, bufferSize: 4), "past the 4-byte data buffer"),
  MalformedFile(
    "overlapping tensors", header: "{\"a\":" + entry(offsets: "[0,4]") + ",\"b\":" + entry(offsets: "[2,6]") + "}",
    buffer: [UInt8](repeating: 0, count: 6), .overlappingTensors(tensor: "b", other: "a"),
    "tensor \"b\" overlaps tensor \"a\""),
  MalformedFile(
    "same bytes twice", header: "{\"a\":" + entry() + ",\"b\":" + entry() + "}", buffer: [0, 0, 0, 0],
    .overlappingTensors(tensor: "b", other: "a"), "overlaps"),
  MalformedFile(
    "empty tensor inside another", header: "{\"a\":" + entry(shape: "[2]", offsets: "[0,8]") + ",\"b\":"
      + entry(shape: "[0]", offsets: "[4,4]") + "}", buffer: [UInt8](repeating: 0, count: 8),
    .overlappingTensors(tensor: "b", other: "a"), "tensor \"b\" overlaps tensor \"a\""),
  MalformedFile(
    "gap at the start", header: "{\"w\":" + entry(offsets: "[4,8]") + "}", buffer: [UInt8](repeating: 0, count: 8),
    .gapBeforeTensor(tensor: "w", begin: 4, expected: 0), "tensor \"w\" begins at byte 4, leaving a gap after byte 0"),
  MalformedFile(
    "gap between tensors", header: "{\"a\":" + entry(offsets: "[0,4]") + ",\"b\":" + entry(offsets: "[6,10]") + "}",
    buffer: [UInt8](repeating: 0, count: 10), .gapBeforeTensor(tensor: "b", begin: 6, expected: 4), "leaving a gap"),
  MalformedFile(
    "trailing bytes", header: "{\"w\":" + entry() + "}", buffer: [UInt8](repeating: 0, count: 7),
    .trailingBytes(count: 3), "3 bytes at the end of the data buffer belong to no tensor"),
  MalformedFile(
    "metadata not an object", header: "{\"__metadata__\":[\"a\"]}", .metadataNotObject(found: "array"),
    "__metadata__ is a JSON array, not an object"),
  MalformedFile(
    "metadata value not a string", header: "{\"__metadata__\":{\"epoch\":3}}",
    .metadataValueNotString(key: "epoch", found: "number"), "__metadata__ value for \"epoch\" is a JSON number"),
  MalformedFile(
    "name with a newline", header: "{\"a\\nb\":3}", .entryNotObject(tensor: "a\nb", found: "number"),
    "tensor \"a\\nb\": entry is"),
]

@Suite("safetensors/validation")
struct SafeTensorsValidationTests {
  @Test("a malformed file is rejected with an error that names the problem", arguments: malformedFiles)
  func rejects(_ file: MalformedFile) {
    let error = safeTensorsLoadError(file.data)
    #expect(error == file.error)
    let message = error?.description ?? ""
    #expect(message.contains(file.message), "\(message)")
    #expect(message.hasPrefix("safetensors: "))
    #expect(!message.contains("\n"))
  }

  @Test("every prefix of a valid file is rejected, never trapping")
  func truncations() throws {
    var file = SafeTensorsFile(metadata: ["format": "pt"])
    try file.add(Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), named: "w")
    try file.add(integers: [1, 0, 1], as: .bool, named: "mask")
    let bytes = file.serialized()
    for length in 0..<bytes.count {
      #expect(safeTensorsLoadError(bytes.prefix(length)) != nil, "prefix of \(length) bytes loaded")
    }
    #expect(safeTensorsLoadError(bytes) == nil)
  }

  @Test("padding, whitespace and empty tensors are accepted")
  func lenientWhereTheFormatIs() throws {
    let header = " {\n\t\"a\" : " + entry(shape: "[0, 2]", offsets: "[0, 0]") + " , \"b\":" + entry(offsets: "[0,4]")
      + " }        "
    let file = try SafeTensorsFile(serialized: safeTensorsBytes(header: header, buffer: [0, 0, 0x80, 0x3F]))
    #expect(file.names == ["a", "b"])
    #expect(try file.tensor(named: "b", as: Float.self).scalars == [1])
    #expect(try file.tensor(named: "a", as: Float.self).shape == [0, 2])
  }

  @Test("a slice of a larger buffer loads like a copy")
  func slices() throws {
    var file = SafeTensorsFile()
    try file.add(integers: [7, -7], as: .int16, named: "x")
    let padded = Data([9, 9, 9]) + file.serialized()
    let slice = padded[3...]
    #expect(try SafeTensorsFile(serialized: slice) == file)
  }
}

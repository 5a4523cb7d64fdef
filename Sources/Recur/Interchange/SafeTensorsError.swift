/// A problem found while reading, building or writing a safetensors file; `description` names it in one
/// line.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
  // MARK: Framing
  /// The file has fewer than the 8 bytes of the header length.
  case fileTooShort(byteCount: Int)
  /// The header length is larger than `SafeTensorsFile.maximumHeaderLength`.
  case headerTooLarge(length: UInt64, limit: Int)
  /// The header length runs past the end of the file.
  case headerPastEnd(length: UInt64, available: Int)
  /// The header bytes are not valid UTF-8.
  case headerNotUTF8
  /// The header is not well-formed JSON; `offset` is the byte offset within the header.
  case invalidJSON(offset: Int, reason: String)
  /// An object of the header has the same key twice.
  case duplicateKey(String, offset: Int)
  /// The header's top-level value is not a JSON object.
  case headerNotObject(found: String)

  // MARK: Entries
  /// A tensor entry is not a JSON object.
  case entryNotObject(tensor: String, found: String)
  /// A tensor entry lacks one of `dtype`, `shape`, `data_offsets`.
  case missingField(tensor: String, field: String)
  /// A tensor entry has a field other than `dtype`, `shape`, `data_offsets`.
  case unexpectedField(tensor: String, field: String)
  /// A field of a tensor entry has the wrong JSON type or form.
  case wrongFieldType(tensor: String, field: String, expected: String)
  /// The dtype is not one of `SafeTensorsDType`.
  case unknownDType(tensor: String, dtype: String)
  /// A shape entry is negative, fractional or too large.
  case invalidDimension(tensor: String, index: Int, literal: String)
  /// The element count or byte count of a shape does not fit in `Int`.
  case shapeOverflow(tensor: String, shape: [Int])
  /// The byte range holds a different number of bytes than the shape and dtype need.
  case byteCountMismatch(tensor: String, expected: Int, actual: Int)
  /// A data offset is negative, fractional or too large.
  case invalidOffset(tensor: String, literal: String)
  /// The end offset is before the begin offset.
  case offsetsReversed(tensor: String, begin: Int, end: Int)
  /// The byte range ends past the end of the data buffer.
  case offsetsOutOfRange(tensor: String, end: Int, bufferSize: Int)
  /// Two tensors share bytes.
  case overlappingTensors(tensor: String, other: String)
  /// Bytes before a tensor belong to no tensor.
  case gapBeforeTensor(tensor: String, begin: Int, expected: Int)
  /// Bytes at the end of the data buffer belong to no tensor.
  case trailingBytes(count: Int)
  /// `__metadata__` is not an object of strings.
  case metadataNotObject(found: String)
  /// A `__metadata__` value is not a string.
  case metadataValueNotString(key: String, found: String)

  // MARK: Access and building
  /// No tensor has the name.
  case tensorNotFound(String)
  /// A tensor with the name already exists.
  case duplicateTensorName(String)
  /// The name is reserved for the metadata.
  case reservedName(String)
  /// The tensor's dtype cannot be read or written as the requested kind of value.
  case dtypeMismatch(tensor: String, dtype: SafeTensorsDType, requested: String)
  /// A value does not fit in the dtype it is read as or written to.
  case valueOutOfRange(tensor: String, dtype: SafeTensorsDType, value: String)
  /// The number of values does not match the shape.
  case shapeMismatch(tensor: String, shape: [Int], count: Int)

  // MARK: Files
  /// The file could not be read.
  case cannotRead(path: String, reason: String)

  public var description: String {
    switch self {
    case .fileTooShort(let count):
      "safetensors: file is \(count) bytes, shorter than the 8-byte header length"
    case .headerTooLarge(let length, let limit):
      "safetensors: header length \(length) exceeds the limit of \(limit) bytes"
    case .headerPastEnd(let length, let available):
      "safetensors: header length \(length) runs past the end of the file (\(available) bytes after the length)"
    case .headerNotUTF8:
      "safetensors: header is not valid UTF-8"
    case .invalidJSON(let offset, let reason):
      "safetensors: header is not valid JSON at byte \(offset): \(reason)"
    case .duplicateKey(let key, let offset):
      "safetensors: duplicate key \(quoted(key)) in header at byte \(offset)"
    case .headerNotObject(let found):
      "safetensors: header is a JSON \(found), not an object"
    case .entryNotObject(let tensor, let found):
      "safetensors: tensor \(quoted(tensor)): entry is a JSON \(found), not an object"
    case .missingField(let tensor, let field):
      "safetensors: tensor \(quoted(tensor)): missing field \(quoted(field))"
    case .unexpectedField(let tensor, let field):
      "safetensors: tensor \(quoted(tensor)): unexpected field \(quoted(field))"
    case .wrongFieldType(let tensor, let field, let expected):
      "safetensors: tensor \(quoted(tensor)): field \(quoted(field)) must be \(expected)"
    case .unknownDType(let tensor, let dtype):
      "safetensors: tensor \(quoted(tensor)): unknown dtype \(quoted(dtype))"
    case .invalidDimension(let tensor, let index, let literal):
      "safetensors: tensor \(quoted(tensor)): shape entry \(index) is \(literal), not a non-negative integer"
    case .shapeOverflow(let tensor, let shape):
      "safetensors: tensor \(quoted(tensor)): shape \(shape) is too large (element or byte count overflows)"
    case .byteCountMismatch(let tensor, let expected, let actual):
      "safetensors: tensor \(quoted(tensor)): data_offsets cover \(actual) bytes but shape and dtype need \(expected)"
    case .invalidOffset(let tensor, let literal):
      "safetensors: tensor \(quoted(tensor)): data offset \(literal) is not a non-negative integer"
    case .offsetsReversed(let tensor, let begin, let end):
      "safetensors: tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] end before they begin"
    case .offsetsOutOfRange(let tensor, let end, let bufferSize):
      "safetensors: tensor \(quoted(tensor)): data ends at byte \(end), past the \(bufferSize)-byte data buffer"
    case .overlappingTensors(let tensor, let other):
      "safetensors: tensor \(quoted(tensor)) overlaps tensor \(quoted(other))"
    case .gapBeforeTensor(let tensor, let begin, let expected):
      "safetensors: tensor \(quoted(tensor)) begins at byte \(begin), leaving a gap after byte \(expected)"
    case .trailingBytes(let count):
      "safetensors: \(count) bytes at the end of the data buffer belong to no tensor"
    case .metadataNotObject(let found):
      "safetensors: __metadata__ is a JSON \(found), not an object"
    case .metadataValueNotString(let key, let found):
      "safetensors: __metadata__ value for \(quoted(key)) is a JSON \(found), not a string"
    case .tensorNotFound(let name):
      "safetensors: no tensor named \(quoted(name))"
    case .duplicateTensorName(let name):
      "safetensors: a tensor named \(quoted(name)) already exists"
    case .reservedName(let name):
      "safetensors: \(quoted(name)) is reserved and cannot name a tensor"
    case .dtypeMismatch(let tensor, let dtype, let requested):
      "safetensors: tensor \(quoted(tensor)) has dtype \(dtype.rawValue), which cannot be used as \(requested)"
    case .valueOutOfRange(let tensor, let dtype, let value):
      "safetensors: tensor \(quoted(tensor)): value \(value) does not fit in \(dtype.rawValue)"
    case .shapeMismatch(let tensor, let shape, let count):
      "safetensors: tensor \(quoted(tensor)): shape \(shape) does not hold \(count) values"
    case .cannotRead(let path, let reason):
      "safetensors: cannot read \(path): \(reason)"
    }
  }
}

/// A name from a file, quoted with its control characters escaped and cut to 80 characters, so that an
/// error message stays one readable line whatever the file holds.
private func quoted(_ name: String) -> String {
  let limit = 80
  guard name.count > limit else { return name.debugDescription }
  return String(name.prefix(limit)).debugDescription + "…"
}

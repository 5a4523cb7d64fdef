import Foundation

extension SafeTensorsFile {
  // MARK: Integers

  /// The elements of an integer or `BOOL` tensor as `Int`, row-major (the shape is `entry(named:)?.shape`).
  ///
  /// - Parameter name: The tensor's name; its dtype is `BOOL`, `U8`, `I8`, `I16`, `U16`, `I32`, `U32`, `I64`
  ///   or `U64`.
  /// - Throws: `SafeTensorsError.tensorNotFound`, `.dtypeMismatch` for a floating-point tensor,
  ///   `.valueOutOfRange` for a `U64` above `Int.max` or a `BOOL` byte other than 0 or 1.
  public func integers(named name: String) throws(SafeTensorsError) -> [Int] {
    let entry = try requireEntry(named: name)
    let count = entry.elementCount
    let dtype = entry.dtype
    guard !dtype.isFloatingPoint else { throw .dtypeMismatch(tensor: name, dtype: dtype, requested: "integers") }
    var values = [Int](repeating: 0, count: count)
    var outOfRange: String?
    entry.bytes.withUnsafeBytes { raw in
      for index in 0..<count {
        switch dtype {
        case .bool:
          let byte = raw[index]
          if byte > 1 { outOfRange = outOfRange ?? String(byte) }
          values[index] = Int(byte)
        case .uint8: values[index] = Int(raw[index])
        case .int8: values[index] = Int(Int8(bitPattern: raw[index]))
        case .int16: values[index] = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
        case .uint16: values[index] = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        case .int32: values[index] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
        case .uint32: values[index] = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .int64: values[index] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
        case .uint64:
          let value = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
          if let exact = Int(exactly: value) {
            values[index] = exact
          } else {
            outOfRange = outOfRange ?? String(value)
          }
        case .float16, .bfloat16, .float32, .float64:
          return  // excluded above
        }
      }
    }
    if let outOfRange { throw .valueOutOfRange(tensor: name, dtype: dtype, value: outOfRange) }
    return values
  }

  /// Adds an integer or `BOOL` tensor.
  ///
  /// - Parameters:
  ///   - values: The elements, row-major; each must fit in `dtype` (0 or 1 for `BOOL`).
  ///   - shape: The dimensions; `nil` means the vector shape `[values.count]`.
  ///   - dtype: An integer dtype or `BOOL` (default `I64`, as PyTorch's `torch.long`).
  ///   - name: A name not yet used and other than `__metadata__`.
  /// - Throws: `SafeTensorsError.dtypeMismatch`, `.shapeMismatch`, `.valueOutOfRange`,
  ///   `.duplicateTensorName`, `.reservedName`.
  public mutating func add(
    integers values: [Int], shape: [Int]? = nil, as dtype: SafeTensorsDType = .int64, named name: String
  ) throws(SafeTensorsError) {
    guard !dtype.isFloatingPoint else { throw .dtypeMismatch(tensor: name, dtype: dtype, requested: "integers") }
    let shape = shape ?? [values.count]
    guard try Entry.elementCount(shape: shape, name: name) == values.count else {
      throw .shapeMismatch(tensor: name, shape: shape, count: values.count)
    }
    var bytes = Data(capacity: values.count * dtype.byteSize)
    func append<T: FixedWidthInteger>(_ type: T.Type, _ value: Int) throws(SafeTensorsError) {
      guard let exact = T(exactly: value) else {
        throw .valueOutOfRange(tensor: name, dtype: dtype, value: String(value))
      }
      withUnsafeBytes(of: exact.littleEndian) { bytes.append(contentsOf: $0) }
    }
    for value in values {
      switch dtype {
      case .bool:
        guard value == 0 || value == 1 else { throw .valueOutOfRange(tensor: name, dtype: dtype, value: String(value)) }
        bytes.append(UInt8(value))
      case .uint8: try append(UInt8.self, value)
      case .int8: try append(Int8.self, value)
      case .int16: try append(Int16.self, value)
      case .uint16: try append(UInt16.self, value)
      case .int32: try append(Int32.self, value)
      case .uint32: try append(UInt32.self, value)
      case .int64: try append(Int64.self, value)
      case .uint64: try append(UInt64.self, value)
      case .float16, .bfloat16, .float32, .float64: break
      }
    }
    try add(Entry(unchecked: dtype, shape: shape, bytes: bytes), named: name)
  }

  // MARK: Floating point

  /// The elements of a floating-point tensor converted to `T` (round to nearest), row-major.
  ///
  /// - Throws: `SafeTensorsError.tensorNotFound`, or `.dtypeMismatch` for an integer tensor.
  func floatingPointValues<T: BinaryFloatingPoint>(named name: String, as _: T.Type = T.self)
    throws(SafeTensorsError) -> [T]
  {
    let entry = try requireEntry(named: name)
    let count = entry.elementCount
    let dtype = entry.dtype
    guard dtype.isFloatingPoint else {
      throw .dtypeMismatch(tensor: name, dtype: dtype, requested: "floating-point values")
    }
    return entry.bytes.withUnsafeBytes { raw in
      (0..<count).map { index -> T in
        switch dtype {
        case .float16:
          T(HalfPrecision.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
        case .bfloat16:
          T(HalfPrecision.float(fromBFloat: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
        case .float32:
          T(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))))
        case .float64:
          T(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
        default:
          0
        }
      }
    }
  }

  /// Adds a floating-point tensor, rounding each element to nearest (ties to even) in `dtype`.
  ///
  /// - Parameters:
  ///   - values: The elements, row-major.
  ///   - shape: Dimensions whose product is `values.count`.
  ///   - dtype: `F16`, `BF16`, `F32` or `F64`.
  ///   - name: A name not yet used and other than `__metadata__`.
  mutating func add<T: BinaryFloatingPoint>(
    floatingPoint values: [T], shape: [Int], as dtype: SafeTensorsDType, named name: String
  ) throws(SafeTensorsError) {
    guard dtype.isFloatingPoint else {
      throw .dtypeMismatch(tensor: name, dtype: dtype, requested: "floating-point values")
    }
    guard try Entry.elementCount(shape: shape, name: name) == values.count else {
      throw .shapeMismatch(tensor: name, shape: shape, count: values.count)
    }
    var bytes = Data(capacity: values.count * dtype.byteSize)
    for value in values {
      switch dtype {
      case .float16:
        let bits = HalfPrecision.half(from: HalfPrecision.floatRoundedToOdd(Double(value)))
        withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) }
      case .bfloat16:
        let bits = HalfPrecision.bfloat(from: HalfPrecision.floatRoundedToOdd(Double(value)))
        withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) }
      case .float32:
        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
      default:
        withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
      }
    }
    try add(Entry(unchecked: dtype, shape: shape, bytes: bytes), named: name)
  }
}

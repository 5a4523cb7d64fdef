/// An element type of a safetensors tensor, named as in the file header ("F32", "I64", …).
///
/// Every element is stored little-endian. Floating-point types read as `Float` or `Double`; integer types
/// and `BOOL` read as `Int`.
public enum SafeTensorsDType: String, CaseIterable, Sendable, Hashable {
  /// A byte that is 0 (false) or 1 (true).
  case bool = "BOOL"
  /// Unsigned 8-bit integer.
  case uint8 = "U8"
  /// Signed 8-bit integer.
  case int8 = "I8"
  /// Signed 16-bit integer.
  case int16 = "I16"
  /// Unsigned 16-bit integer.
  case uint16 = "U16"
  /// IEEE 754 binary16.
  case float16 = "F16"
  /// bfloat16: the upper 16 bits of an IEEE 754 binary32.
  case bfloat16 = "BF16"
  /// Signed 32-bit integer.
  case int32 = "I32"
  /// Unsigned 32-bit integer.
  case uint32 = "U32"
  /// IEEE 754 binary32 (`Float`).
  case float32 = "F32"
  /// IEEE 754 binary64 (`Double`).
  case float64 = "F64"
  /// Signed 64-bit integer (PyTorch's `torch.long`).
  case int64 = "I64"
  /// Unsigned 64-bit integer.
  case uint64 = "U64"

  /// The size of one element in bytes.
  public var byteSize: Int {
    switch self {
    case .bool, .uint8, .int8: 1
    case .int16, .uint16, .float16, .bfloat16: 2
    case .int32, .uint32, .float32: 4
    case .float64, .int64, .uint64: 8
    }
  }

  /// Whether elements are floating-point numbers (F16, BF16, F32, F64).
  public var isFloatingPoint: Bool {
    switch self {
    case .float16, .bfloat16, .float32, .float64: true
    default: false
    }
  }

  /// The rank the reference implementation gives the type when it lays out a file: tensors are stored by
  /// decreasing rank, then by name, which keeps every tensor aligned to its element size.
  var layoutRank: Int {
    switch self {
    case .bool: 0
    case .uint8: 1
    case .int8: 2
    case .int16: 3
    case .uint16: 4
    case .float16: 5
    case .bfloat16: 6
    case .int32: 7
    case .uint32: 8
    case .float32: 9
    case .float64: 10
    case .int64: 11
    case .uint64: 12
    }
  }
}

/// Conversions between IEEE binary16 / bfloat16 bit patterns and `Float`, written out bit by bit so that
/// they behave the same on every platform (Swift's `Float16` is not available everywhere).
enum HalfPrecision {
  /// The `Float` with the value of a binary16 bit pattern (exact).
  static func float(fromHalf bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x03FF)
    if exponent == 0x1F {
      // Infinity or NaN: keep the payload in the top mantissa bits.
      return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    }
    if exponent == 0 {
      // Zero or subnormal: mantissa · 2^-24, exact in Float.
      let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
      return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
  }

  /// The binary16 bit pattern nearest to `value` (round to nearest, ties to even; overflow to infinity).
  static func half(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x007F_FFFF
    if exponent == 0xFF {
      // Infinity, or NaN kept quiet with the top of its payload.
      return mantissa == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F { return sign | 0x7C00 }
    if halfExponent <= 0 {
      // Subnormal or zero in binary16: shift the full significand right, rounding to nearest even.
      if halfExponent < -10 { return sign }
      let significand = mantissa | 0x0080_0000
      let shift = UInt32(14 - halfExponent)
      let rounded = roundShift(significand, by: shift)
      return sign | UInt16(truncatingIfNeeded: rounded)
    }
    let combined = UInt32(halfExponent) << 23 | mantissa
    // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
    return sign | UInt16(truncatingIfNeeded: roundShift(combined, by: 13))
  }

  /// The `Float` with the value of a bfloat16 bit pattern (exact).
  static func float(fromBFloat bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }

  /// The bfloat16 bit pattern nearest to `value` (round to nearest, ties to even, as PyTorch).
  static func bfloat(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN {
      return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
    }
    return UInt16(truncatingIfNeeded: roundShift(bits, by: 16))
  }

  /// `value >> shift`, rounded to nearest with ties to even (`shift` in 1...31).
  private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
    let truncated = value >> shift
    let remainder = value & ((1 << shift) - 1)
    let half: UInt32 = 1 << (shift - 1)
    if remainder > half || (remainder == half && truncated & 1 == 1) {
      return truncated + 1
    }
    return truncated
  }
}

extension HalfPrecision {
  /// `value` rounded to a `Float` with round-to-odd: an inexact result gets an odd last bit. Rounding this
  /// `Float` to binary16 or bfloat16 then gives the same result as rounding `value` directly, avoiding the
  /// double-rounding error of going through round-to-nearest `Float`.
  static func floatRoundedToOdd(_ value: Double) -> Float {
    let nearest = Float(value)
    guard nearest.isFinite, Double(nearest) != value, !value.isNaN else { return nearest }
    if nearest.bitPattern & 1 == 1 { return nearest }
    // The neighbour of `nearest` on the side of `value` is odd and still brackets `value` with `nearest`.
    return Double(nearest) < value ? nearest.nextUp : nearest.nextDown
  }
}

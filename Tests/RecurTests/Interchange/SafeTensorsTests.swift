import Foundation
import Testing

@testable import Recur

@Suite("safetensors/reading and writing")
struct SafeTensorsTests {
  /// A file with one tensor of every dtype.
  static func everyDType() throws -> SafeTensorsFile {
    var file = SafeTensorsFile(metadata: ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é 😀 \u{1}"])
    try file.add(Tensor<Double>(shape: [2, 2], scalars: [0.1, -2, .pi, 1e-300]), named: "f64")
    try file.add(Tensor<Float>(shape: [3], scalars: [0.5, -1.25, .greatestFiniteMagnitude]), named: "f32")
    try file.add(Tensor<Float>(shape: [2], scalars: [0.5, -1.25]), named: "f16", as: .float16)
    try file.add(Tensor<Float>(shape: [1, 2], scalars: [3, -0.015625]), named: "bf16", as: .bfloat16)
    try file.add(Tensor<Float>(shape: [], scalars: [7]), named: "scalar")
    try file.add(Tensor<Float>(shape: [0, 5]), named: "empty")
    try file.add(integers: [Int.min, Int.max, 0], as: .int64, named: "i64")
    try file.add(integers: [Int(Int32.min), Int(Int32.max)], as: .int32, named: "i32")
    try file.add(integers: [-32768, 32767], as: .int16, named: "i16")
    try file.add(integers: [-128, 127], as: .int8, named: "i8")
    try file.add(integers: [0, 255], as: .uint8, named: "u8")
    try file.add(integers: [65535], as: .uint16, named: "u16")
    try file.add(integers: [4_294_967_295], as: .uint32, named: "u32")
    try file.add(integers: [Int.max], as: .uint64, named: "u64")
    try file.add(integers: [1, 0, 1, 1], shape: [2, 2], as: .bool, named: "bool")
    return file
  }

  @Test("every dtype survives a round trip through bytes")
  func roundTrip() throws {
    let file = try Self.everyDType()
    let bytes = file.serialized()
    let loaded = try SafeTensorsFile(serialized: bytes)
    #expect(loaded == file)
    #expect(loaded.serialized() == bytes)
    #expect(loaded.metadata == file.metadata)
    #expect(try loaded.tensor(named: "f64", as: Double.self) == Tensor(shape: [2, 2], scalars: [0.1, -2, .pi, 1e-300]))
    #expect(try loaded.tensor(named: "f32", as: Float.self).scalars == [0.5, -1.25, .greatestFiniteMagnitude])
    #expect(try loaded.tensor(named: "f16", as: Float.self).scalars == [0.5, -1.25])
    #expect(try loaded.tensor(named: "bf16", as: Double.self) == Tensor(shape: [1, 2], scalars: [3, -0.015625]))
    #expect(try loaded.tensor(named: "scalar", as: Float.self) == Tensor(shape: [], scalars: [7]))
    #expect(try loaded.tensor(named: "empty", as: Float.self).shape == [0, 5])
    #expect(try loaded.integers(named: "i64") == [Int.min, Int.max, 0])
    #expect(try loaded.integers(named: "i32") == [Int(Int32.min), Int(Int32.max)])
    #expect(try loaded.integers(named: "i16") == [-32768, 32767])
    #expect(try loaded.integers(named: "i8") == [-128, 127])
    #expect(try loaded.integers(named: "u8") == [0, 255])
    #expect(try loaded.integers(named: "u16") == [65535])
    #expect(try loaded.integers(named: "u32") == [4_294_967_295])
    #expect(try loaded.integers(named: "u64") == [Int.max])
    #expect(try loaded.integers(named: "bool") == [1, 0, 1, 1])
    #expect(loaded.entry(named: "bool")?.shape == [2, 2])
  }

  @Test("the layout follows the reference library: alignment, then name; header padded to 8 bytes")
  func layout() throws {
    let file = try Self.everyDType()
    #expect(
      file.names == ["u64", "i64", "f64", "empty", "f32", "scalar", "u32", "i32", "bf16", "f16", "u16", "i16",
                     "i8", "u8", "bool"])
    let bytes = file.serialized()
    let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect((8 + headerLength) % 8 == 0)
    let header = try #require(String(data: bytes[8..<(8 + headerLength)], encoding: .utf8))
    #expect(header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"quote \\\" backslash \\\\ newline \\n"))
    #expect(header.contains("\\u0001"))
    #expect(header.contains("\"u64\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]},"))
    #expect(header.last == " " || header.last == "}")
  }

  @Test("a file without tensors or metadata is the empty object")
  func emptyFile() throws {
    let bytes = SafeTensorsFile().serialized()
    #expect(bytes == Data([8, 0, 0, 0, 0, 0, 0, 0]) + Data("{}      ".utf8))
    #expect(try SafeTensorsFile(serialized: bytes) == SafeTensorsFile())
  }

  @Test("F16 and BF16 round to nearest, ties to even, with overflow, subnormals and NaN")
  func halfPrecision() {
    // binary16: 1 + 2^-11 is a tie between 1 and 1 + 2^-10 → even (1); 1 + 3·2^-11 → 1 + 2^-9.
    #expect(HalfPrecision.half(from: 1 + 0x1p-11) == 0x3C00)
    #expect(HalfPrecision.half(from: 1 + 3 * 0x1p-11) == 0x3C02)
    #expect(HalfPrecision.half(from: 65504) == 0x7BFF)
    #expect(HalfPrecision.half(from: 65520) == 0x7C00)
    #expect(HalfPrecision.half(from: 0x1p-24) == 0x0001)
    #expect(HalfPrecision.half(from: 0x1p-25) == 0x0000)
    #expect(HalfPrecision.half(from: 0x1.8p-25) == 0x0001)
    #expect(HalfPrecision.half(from: -0.0) == 0x8000)
    #expect(HalfPrecision.half(from: .nan) & 0x7E00 == 0x7E00)
    #expect(HalfPrecision.float(fromHalf: 0x0001) == 0x1p-24)
    #expect(HalfPrecision.float(fromHalf: 0x7BFF) == 65504)
    #expect(HalfPrecision.float(fromHalf: 0xFC00) == -.infinity)
    #expect(HalfPrecision.float(fromHalf: 0x7E00).isNaN)
    // Every binary16 value converts to Float and back unchanged (NaNs stay NaN).
    for bits in UInt16.min...UInt16.max {
      let value = HalfPrecision.float(fromHalf: bits)
      if value.isNaN {
        #expect(HalfPrecision.half(from: value) & 0x7C00 == 0x7C00)
      } else if HalfPrecision.half(from: value) != bits {
        Issue.record("binary16 \(bits) → \(value) → \(HalfPrecision.half(from: value))")
      }
    }
    // bfloat16.
    #expect(HalfPrecision.bfloat(from: 1 + 0x1p-8) == 0x3F80)
    #expect(HalfPrecision.bfloat(from: 1 + 3 * 0x1p-8) == 0x3F82)
    #expect(HalfPrecision.bfloat(from: .greatestFiniteMagnitude) == 0x7F80)
    #expect(HalfPrecision.bfloat(from: .nan) & 0x7FC0 == 0x7FC0)
    #expect(HalfPrecision.float(fromBFloat: 0xC040) == -3)
  }

  @Test("Double converts to F16 with one rounding, not two")
  func noDoubleRounding() throws {
    // 1 + 2^-11 + 2^-40 rounds to Float as the tie 1 + 2^-11, which would then round down to 1; the exact
    // value is above the tie, so the correct binary16 result is 1 + 2^-10.
    var file = SafeTensorsFile()
    try file.add(Tensor<Double>(shape: [2], scalars: [1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-8 + 0x1p-40]), named: "h", as: .float16)
    try file.add(Tensor<Double>(shape: [1], scalars: [1 + 0x1p-8 + 0x1p-40]), named: "b", as: .bfloat16)
    #expect(try file.tensor(named: "h", as: Double.self).scalars == [1 + 0x1p-10, 1 + 0x1p-8])
    #expect(try file.tensor(named: "b", as: Double.self).scalars == [1 + 0x1p-7])
  }

  @Test("typed access and building report misuse")
  func accessErrors() throws {
    var file = try Self.everyDType()
    #expect(throws: SafeTensorsError.tensorNotFound("nope")) { try file.tensor(named: "nope", as: Float.self) }
    #expect(throws: SafeTensorsError.dtypeMismatch(tensor: "i64", dtype: .int64, requested: "floating-point values")) {
      try file.tensor(named: "i64", as: Float.self)
    }
    #expect(throws: SafeTensorsError.dtypeMismatch(tensor: "f32", dtype: .float32, requested: "integers")) {
      try file.integers(named: "f32")
    }
    #expect(throws: SafeTensorsError.duplicateTensorName("f32")) {
      try file.add(Tensor<Float>(shape: [1]), named: "f32")
    }
    #expect(throws: SafeTensorsError.reservedName("__metadata__")) {
      try file.add(Tensor<Float>(shape: [1]), named: "__metadata__")
    }
    #expect(throws: SafeTensorsError.valueOutOfRange(tensor: "x", dtype: .uint8, value: "256")) {
      try file.add(integers: [1, 256], as: .uint8, named: "x")
    }
    #expect(throws: SafeTensorsError.valueOutOfRange(tensor: "x", dtype: .bool, value: "2")) {
      try file.add(integers: [2], as: .bool, named: "x")
    }
    #expect(throws: SafeTensorsError.valueOutOfRange(tensor: "x", dtype: .uint64, value: "-1")) {
      try file.add(integers: [-1], as: .uint64, named: "x")
    }
    #expect(throws: SafeTensorsError.shapeMismatch(tensor: "x", shape: [2, 2], count: 3)) {
      try file.add(integers: [1, 2, 3], shape: [2, 2], named: "x")
    }
    #expect(throws: SafeTensorsError.dtypeMismatch(tensor: "x", dtype: .int32, requested: "floating-point values")) {
      try file.add(Tensor<Float>(shape: [1]), named: "x", as: .int32)
    }
    #expect(throws: SafeTensorsError.byteCountMismatch(tensor: "", expected: 8, actual: 4)) {
      try SafeTensorsFile.Entry(dtype: .float32, shape: [2], bytes: Data(count: 4))
    }
    #expect(file.removeEntry(named: "f32") != nil)
    #expect(file.entry(named: "f32") == nil)
    #expect(!file.names.contains("f32"))
    #expect(
      SafeTensorsError.dtypeMismatch(tensor: "i64", dtype: .int64, requested: "floating-point values").description
        == "safetensors: tensor \"i64\" has dtype I64, which cannot be used as floating-point values")
  }

  @Test("stored integers outside Int or a BOOL other than 0/1 are reported on access")
  func storedValuesOutOfRange() throws {
    var file = SafeTensorsFile()
    try file.add(SafeTensorsFile.Entry(dtype: .uint64, shape: [1], bytes: Data(repeating: 0xFF, count: 8)), named: "u")
    try file.add(SafeTensorsFile.Entry(dtype: .bool, shape: [2], bytes: Data([1, 2])), named: "b")
    let loaded = try SafeTensorsFile(serialized: file.serialized())
    #expect(throws: SafeTensorsError.valueOutOfRange(tensor: "u", dtype: .uint64, value: "18446744073709551615")) {
      try loaded.integers(named: "u")
    }
    #expect(throws: SafeTensorsError.valueOutOfRange(tensor: "b", dtype: .bool, value: "2")) {
      try loaded.integers(named: "b")
    }
  }
}

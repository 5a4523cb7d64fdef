import Foundation
import Testing

@testable import Recur

/// Compatibility with the reference implementation (PyTorch + safetensors), through a fixture written by
/// Tests/RecurTests/Fixtures/generate_safetensors_fixture.py.
@Suite("safetensors/PyTorch interchange")
struct SafeTensorsInteropTests {
  /// 1e-40, a Float subnormal, rounded from Double as PyTorch does.
  static let subnormal = Float(1e-40 as Double)
  static let tricky: [Float] = [
    0, -0.0, 1, 1.0 / 3.0, -2.5, 65504, 65520, 1e-8, 5.9604645e-08, 2.9802322e-08, 1 + 0x1p-11, 1 + 3 * 0x1p-11,
    1 + 0x1p-8, 1 + 3 * 0x1p-8, 3.0e38, .infinity, -.infinity, subnormal,
  ]

  static func fixtureURL() throws -> URL {
    try #require(
      Bundle.module.url(forResource: "safetensors_reference", withExtension: "safetensors", subdirectory: "Fixtures"))
  }

  /// The fixture's contents, built in Swift from the values in the generator script.
  static func expected() throws -> SafeTensorsFile {
    var file = SafeTensorsFile(metadata: [
      "generated_by": "Tests/RecurTests/Fixtures/generate_safetensors_fixture.py — do not edit"
    ])
    let embedding = (0..<2).flatMap { _ in (0..<3).map { Double($0) * 0.1 - 0.3 } }
    try file.add(Tensor<Double>(shape: [2, 3], scalars: embedding), named: "embedding.weight")
    try file.add(
      Tensor<Float>(shape: [2, 2, 2], scalars: [0.5, -1.25, 3.0e-5, 1.0 / 3.0, 7, -0.0, subnormal, 123456.789]),
      named: "rnn.weight_hh_l0")
    try file.add(Tensor<Float>(shape: [18], scalars: tricky), named: "half", as: .float16)
    try file.add(Tensor<Float>(shape: [18], scalars: tricky), named: "brain", as: .bfloat16)
    try file.add(Tensor<Float>(shape: [], scalars: [2.5]), named: "scalar")
    try file.add(Tensor<Float>(shape: [0, 3]), named: "empty")
    try file.add(integers: [Int.min, Int.max, 0, -7], named: "long")
    try file.add(integers: [Int(Int32.min), Int(Int32.max), 1, -1], shape: [2, 2], as: .int32, named: "int")
    try file.add(integers: [-32768, 32767], as: .int16, named: "short")
    try file.add(integers: [-128, 127, 0], as: .int8, named: "char")
    try file.add(integers: [0, 255, 17], as: .uint8, named: "byte")
    try file.add(integers: [1, 0, 1], shape: [1, 3], as: .bool, named: "mask")
    try file.add(integers: [65535, 1], as: .uint16, named: "u16")
    try file.add(integers: [4_294_967_295], as: .uint32, named: "u32")
    try file.add(integers: [1 << 62], as: .uint64, named: "u64")
    return file
  }

  @Test("a file written by PyTorch loads with the same values")
  func readsPyTorch() throws {
    let file = try SafeTensorsFile(contentsOf: Self.fixtureURL())
    #expect(file.count == 15)
    #expect(file.metadata["generated_by"]?.hasSuffix("do not edit") == true)
    let embedding = try file.tensor(named: "embedding.weight", as: Double.self)
    #expect(embedding.shape == [2, 3])
    #expect(embedding.scalars == [-0.3, 0.1 - 0.3, 0.2 - 0.3, -0.3, 0.1 - 0.3, 0.2 - 0.3])
    let weight = try file.tensor(named: "rnn.weight_hh_l0", as: Float.self)
    #expect(weight.shape == [2, 2, 2])
    #expect(weight.scalars == [0.5, -1.25, 3.0e-5, 1.0 / 3.0, 7, -0.0, Self.subnormal, 123456.789])
    // PyTorch's float16 of the tricky values, as bit patterns.
    let halfBits: [UInt16] = [
      0, 0x8000, 15360, 13653, 0xC100, 31743, 31744, 0, 1, 0, 15360, 15362, 15364, 15372, 31744, 31744, 0xFC00, 0,
    ]
    #expect(try file.tensor(named: "half", as: Float.self).scalars == halfBits.map(HalfPrecision.float(fromHalf:)))
    let brainBits: [UInt16] = [
      0, 0x8000, 16256, 16043, 0xC020, 18304, 18304, 12844, 13184, 13056, 16256, 16256, 16256, 16258, 32610, 32640,
      0xFF80, 1,
    ]
    #expect(try file.tensor(named: "brain", as: Float.self).scalars == brainBits.map(HalfPrecision.float(fromBFloat:)))
    #expect(try file.tensor(named: "scalar", as: Float.self) == Tensor(shape: [], scalars: [2.5]))
    #expect(try file.tensor(named: "empty", as: Float.self).shape == [0, 3])
    #expect(try file.integers(named: "long") == [Int.min, Int.max, 0, -7])
    #expect(try file.integers(named: "int") == [Int(Int32.min), Int(Int32.max), 1, -1])
    #expect(try file.integers(named: "short") == [-32768, 32767])
    #expect(try file.integers(named: "char") == [-128, 127, 0])
    #expect(try file.integers(named: "byte") == [0, 255, 17])
    #expect(try file.integers(named: "mask") == [1, 0, 1])
    #expect(file.entry(named: "mask")?.shape == [1, 3])
    #expect(try file.integers(named: "u16") == [65535, 1])
    #expect(try file.integers(named: "u32") == [4_294_967_295])
    #expect(try file.integers(named: "u64") == [1 << 62])
  }

  @Test("the same tensors written from Swift give PyTorch's file byte for byte")
  func writesLikePyTorch() throws {
    let reference = try Data(contentsOf: Self.fixtureURL())
    let written = try Self.expected().serialized()
    #expect(written.count == reference.count)
    #expect(written == reference)
    #expect(try SafeTensorsFile(serialized: reference) == Self.expected())
  }
}

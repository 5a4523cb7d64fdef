import Foundation

/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64), so that
/// initialization, dropout, batching and sampling are reproducible from one integer seed on every
/// platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
  /// The full 256-bit state; saving and restoring it resumes the exact sequence.
  public var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose sequence is fixed by `seed`.
  public init(seed: UInt64) {
    var s = seed
    func splitMix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// A generator with the given raw state (as saved in a checkpoint).
  public init(state: [UInt64]) {
    precondition(state.count == 4, "SeededGenerator state has four words")
    self.state = (state[0], state[1], state[2], state[3])
  }

  /// The raw state as four words.
  public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

  public mutating func next() -> UInt64 {
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// A uniform Double in [0, 1) with 53 random bits.
  public mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal sample (Box–Muller).
  public mutating func nextNormal() -> Double {
    var u = nextUnit()
    while u <= .leastNormalMagnitude { u = nextUnit() }
    let v = nextUnit()
    return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
  }

  public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.stateWords == b.stateWords }

  public init(from decoder: any Decoder) throws {
    let words = try [UInt64](from: decoder)
    guard words.count == 4 else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "generator state needs 4 words"))
    }
    self.init(state: words)
  }

  public func encode(to encoder: any Encoder) throws { try stateWords.encode(to: encoder) }
}

extension Tensor {
  /// A tensor of independent uniform samples in [low, high).
  public static func uniform(
    shape: [Int], low: Double, high: Double, using generator: inout SeededGenerator
  ) -> Tensor {
    var t = Tensor(shape: shape)
    for i in t.scalars.indices {
      t.scalars[i] = Scalar(low + (high - low) * generator.nextUnit())
    }
    return t
  }

  /// A tensor of independent normal samples with the given mean and standard deviation.
  public static func normal(
    shape: [Int], mean: Double = 0, standardDeviation: Double = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    var t = Tensor(shape: shape)
    for i in t.scalars.indices {
      t.scalars[i] = Scalar(mean + standardDeviation * generator.nextNormal())
    }
    return t
  }
}

extension SeededGenerator {
  /// Shuffles `elements` in place by Fisher–Yates with the generator's raw 64-bit draws (j = next() mod (i + 1)
  /// for i from the last index down), so an order is the same on every platform and toolchain (the standard
  /// library's shuffle does not promise that). Every shuffle of training data goes through it.
  mutating func shuffle<T>(_ elements: inout [T]) {
    guard elements.count > 1 else { return }
    for i in stride(from: elements.count - 1, to: 0, by: -1) {
      let j = Int(next() % UInt64(i + 1))
      elements.swapAt(i, j)
    }
  }
}

import Recur

/// The awkward sizes every vectorized kernel is tested at (around the 8-lane vector and the 6 × 16 tile).
let kernelSizes = [1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 257]

/// Uniform random floats in [lower, upper), reproducible from `seed`.
func kernelRandom(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  return (0..<count).map { _ in
    range.lowerBound + Float(generator.nextUnit()) * (range.upperBound - range.lowerBound)
  }
}

/// ‖candidate − reference‖ / ‖reference‖ (Frobenius norms, in Double); 0 when both are zero.
func relativeFrobeniusError<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ candidate: [A], _ reference: [B])
  -> Double
{
  precondition(candidate.count == reference.count)
  var difference = 0.0
  var norm = 0.0
  for (x, y) in zip(candidate, reference) {
    let d = Double(x) - Double(y)
    difference += d * d
    norm += Double(y) * Double(y)
  }
  if norm == 0 { return difference.squareRoot() }
  return (difference / norm).squareRoot()
}

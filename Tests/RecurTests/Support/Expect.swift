import Testing

@testable import Recur

/// ‖a − b‖ / max(‖a‖, ‖b‖, floor): the relative error used throughout the tests.
func relativeError<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ a: [A], _ b: [B], floor: Double = 1e-12) -> Double {
  precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
  var diff = 0.0, na = 0.0, nb = 0.0
  for i in a.indices {
    let x = Double(a[i]), y = Double(b[i])
    diff += (x - y) * (x - y)
    na += x * x
    nb += y * y
  }
  return diff.squareRoot() / max(na.squareRoot(), nb.squareRoot(), floor)
}

/// Expects `actual` and `expected` to agree to `relativeTolerance` (norm of the difference over the larger norm).
func expectClose<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(
  _ actual: [A], _ expected: [B], relativeTolerance: Double, _ what: @autoclosure () -> String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let error = relativeError(actual, expected)
  #expect(
    error <= relativeTolerance, "\(what()) relative error \(error) > \(relativeTolerance)",
    sourceLocation: sourceLocation)
}

/// Expects two scalars to agree to `relativeTolerance`.
func expectClose(
  _ actual: Double, _ expected: Double, relativeTolerance: Double, _ what: @autoclosure () -> String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  expectClose([actual], [expected], relativeTolerance: relativeTolerance, what(), sourceLocation: sourceLocation)
}

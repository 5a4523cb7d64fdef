import Testing

@testable import Recur

/// The central differences (f(θᵢ + ε) − f(θᵢ − ε)) / 2ε for i in 0..<count, where `value(i, δ)` is f with
/// entry i shifted by δ.
func centralDifferences(count: Int, step eps: Double, _ value: (Int, Double) throws -> Double) rethrows -> [Double] {
  var numeric = [Double](repeating: 0, count: count)
  for i in 0..<count { numeric[i] = (try value(i, eps) - (try value(i, -eps))) / (2 * eps) }
  return numeric
}

/// Expects every parameter's entry of `gradient` to match the central difference (J(θ + ε) − J(θ − ε)) / 2ε
/// of `loss` at `net`, each parameter tensor to `tolerance` (relative).
func expectParameterGradients(
  _ gradient: RecurrentNetwork<Double>, of net: RecurrentNetwork<Double>, step eps: Double, tolerance: Double,
  _ label: String, sourceLocation: SourceLocation = #_sourceLocation,
  loss: (RecurrentNetwork<Double>) throws -> Double
) throws {
  for (name, analytic) in gradient.namedParameters {
    let numeric = try centralDifferences(count: analytic.count, step: eps) { i, delta in
      var copy = net
      copy.updateEachParameter { n, t in if n == name { t.scalars[i] += delta } }
      return try loss(copy)
    }
    expectClose(analytic.scalars, numeric, relativeTolerance: tolerance, "\(label) d\(name)", sourceLocation: sourceLocation)
  }
}

/// Expects the gradient `dS0` of every initial state h₀ (and c₀) of `s0` to match the central difference of
/// `loss` to `tolerance` (relative).
func expectInitialStateGradients(
  _ dS0: RecurrentState<Double>, at s0: RecurrentState<Double>, step eps: Double, tolerance: Double, _ label: String,
  loss: (RecurrentState<Double>) throws -> Double
) throws {
  for l in dS0.h.indices {
    for (which, tensor) in [("h", dS0.h[l])] + (dS0.c.isEmpty ? [] : [("c", dS0.c[l])]) {
      let numeric = try centralDifferences(count: tensor.count, step: eps) { i, delta in
        var s = s0
        if which == "h" { s.h[l].scalars[i] += delta } else { s.c[l].scalars[i] += delta }
        return try loss(s)
      }
      expectClose(tensor.scalars, numeric, relativeTolerance: tolerance, "\(label) d\(which)0[\(l)]")
    }
  }
}

/// For a batch of vector inputs: expects the input gradient `dx` to match the central difference of `loss`
/// to `tolerance` (relative), and to be exactly zero on padded steps. Does nothing for token inputs.
func expectInputGradient(
  _ dx: Tensor<Double>?, of batch: SequenceBatch<Double>, step eps: Double, tolerance: Double, _ label: String,
  loss: (SequenceBatch<Double>) throws -> Double
) throws {
  guard case .vectors(let x, let f) = batch.inputs else { return }
  let dx = try #require(dx)
  var shiftedBatch = batch
  let numeric = try centralDifferences(count: x.count, step: eps) { i, delta in
    var xs = x
    xs[i] += delta
    shiftedBatch.inputs = .vectors(xs, features: f)
    return try loss(shiftedBatch)
  }
  expectClose(dx.scalars, numeric, relativeTolerance: tolerance, "\(label) dx")
  for t in 0..<batch.steps {
    for b in 0..<batch.batchSize where t >= batch.lengths[b] {
      for k in 0..<f { #expect(dx.scalars[(t * batch.batchSize + b) * f + k] == 0, "\(label) padded dx") }
    }
  }
}

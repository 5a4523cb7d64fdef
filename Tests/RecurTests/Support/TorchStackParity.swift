import Testing

@testable import Recur

/// Checks a `RecurrentStack` against a PyTorch parity fixture (Tests/RecurTests/Fixtures/
/// generate_torch_fixtures.py, generate_bidirectional_fixtures.py): loads the module's parameters under
/// PyTorch's names, runs the stored batch of variable lengths forward from the stored initial state, and
/// backward for loss = Σ output ∗ w_out + Σ h_n ∗ w_h (+ Σ c_n ∗ w_c); the outputs on valid steps, the final
/// states, the parameter gradients and the input and initial-state gradients must match within 1e-5
/// (relative). Returns the parameter names in the stack's order.
@discardableResult
func expectTorchStackParity(
  _ fixture: Fixture, kind: CellKind, layers: Int, bidirectional: Bool, label: String
) throws -> [String] {
  let I = try fixture.int("input_size"), H = try fixture.int("hidden_size")
  let B = try fixture.int("batch"), T = try fixture.int("steps")
  let directions = bidirectional ? 2 : 1, width = directions * H
  var rng = SeededGenerator(seed: 0)
  var stack = RecurrentStack<Float>(
    kind: kind, inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, generator: &rng)
  var names: [String] = []
  try stack.updateEachParameter { name, tensor in
    names.append(name)
    let value: Tensor<Float> = try fixture.tensor(name)
    #expect(value.shape == tensor.shape, "\(name)")
    tensor = value
  }
  let lengths = try fixture.integers("lengths")
  let x = timeMajor(try fixture.tensor("input").scalars, batch: B, steps: T, features: I)
  let hasC = kind == .lstm
  func state(_ name: String) throws -> [Tensor<Float>] {
    let all: Tensor<Float> = try fixture.tensor(name)
    return (0..<(directions * layers)).map { l in
      Tensor(shape: [B, H], scalars: Array(all.scalars[(l * B * H)..<((l + 1) * B * H)]))
    }
  }
  let s0 = RecurrentState(h: try state("h0"), c: hasC ? try state("c0") : [])
  let ws = StackWorkspace<Float>()

  // Forward.
  x.withUnsafeBufferPointer { xp in
    stack.forward(
      input: xp.baseAddress!, steps: T, batch: B, lengths: lengths, initialState: s0, workspace: ws,
      dropout: nil)
  }
  let top = stack.topOutputs(batch: B, workspace: ws)
  let expectedOutput = timeMajor(try fixture.tensor("output").scalars, batch: B, steps: T, features: width)
  var ours: [Float] = [], theirs: [Float] = []
  for t in 0..<T {
    for b in 0..<B where t < lengths[b] {
      for j in 0..<width {
        ours.append(top[(t * B + b) * width + j])
        theirs.append(expectedOutput[(t * B + b) * width + j])
      }
    }
  }
  expectClose(ours, theirs, relativeTolerance: 1e-5, "\(label) output")
  let final = stack.finalState(steps: T, batch: B, workspace: ws)
  expectClose(final.h.flatMap(\.scalars), try fixture.tensor("h_n").scalars, relativeTolerance: 1e-5, "h_n")
  if hasC { expectClose(final.c.flatMap(\.scalars), try fixture.tensor("c_n").scalars, relativeTolerance: 1e-5, "c_n") }

  // Backward for loss = Σ output ∗ w_out + Σ h_n ∗ w_h (+ Σ c_n ∗ w_c).
  let wOut = timeMajor(try fixture.tensor("w_out").scalars, batch: B, steps: T, features: width)
  let dFinal = RecurrentState(h: try state("w_h"), c: hasC ? try state("w_c") : [])
  var gradient = stack.zeros()
  var dx = [Float](repeating: 0, count: T * B * I)
  let dS0 = x.withUnsafeBufferPointer { xp in
    wOut.withUnsafeBufferPointer { wp in
      dx.withUnsafeMutableBufferPointer { dxp in
        stack.backward(
          input: xp.baseAddress!, steps: T, batch: B, lengths: lengths, outputGradient: wp.baseAddress!,
          finalStateGradient: dFinal, workspace: ws, gradient: &gradient, inputGradient: dxp.baseAddress!)
      }
    }
  }
  for (name, g) in gradient.namedParameters {
    expectClose(g.scalars, try fixture.tensor("grad.\(name)").scalars, relativeTolerance: 1e-5, "\(label) d\(name)")
  }
  let expectedDx = timeMajor(try fixture.tensor("grad.input").scalars, batch: B, steps: T, features: I)
  expectClose(dx, expectedDx, relativeTolerance: 1e-5, "dinput")
  expectClose(dS0.h.flatMap(\.scalars), try fixture.tensor("grad.h0").scalars, relativeTolerance: 1e-5, "dh0")
  if hasC { expectClose(dS0.c.flatMap(\.scalars), try fixture.tensor("grad.c0").scalars, relativeTolerance: 1e-5, "dc0") }
  return names
}

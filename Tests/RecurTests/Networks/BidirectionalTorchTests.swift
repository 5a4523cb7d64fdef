import Testing

@testable import Recur

/// Outputs [forward, reverse], final states in PyTorch's order h_n[2l + d], and gradients of bidirectional
/// nn.RNN, nn.GRU and nn.LSTM (2 layers, B = 3, unsorted variable lengths through pack_padded_sequence), from
/// fixtures made by Tests/RecurTests/Fixtures/generate_bidirectional_fixtures.py.
@Suite("Bidirectional layers: PyTorch parity")
struct BidirectionalTorchTests {
  @Test("outputs, final states and gradients within 1e-5", arguments: TorchParityTests.cases.map(\.0))
  func parity(kindName: String) throws {
    let kind = try #require(TorchParityTests.cases.first { $0.0 == kindName }?.1)
    let fixture = try Fixture("torch_bi_\(kindName)_L2")
    let I = try fixture.int("input_size"), H = try fixture.int("hidden_size"), L = try fixture.int("num_layers")
    let B = try fixture.int("batch"), T = try fixture.int("steps")
    #expect(try fixture.metadata("bidirectional") == "true")
    var rng = SeededGenerator(seed: 0)
    var stack = RecurrentStack<Float>(kind: kind, inputSize: I, hiddenSize: H, layers: L, bidirectional: true, generator: &rng)
    var names: [String] = []
    try stack.updateEachParameter { name, tensor in
      names.append(name)
      let value: Tensor<Float> = try fixture.tensor(name)
      #expect(value.shape == tensor.shape, "\(name)")
      tensor = value
    }
    #expect(names.contains("weight_ih_l1_reverse") && names.count == 16)
    let lengths = try fixture.integers("lengths")
    let x = timeMajor(try fixture.tensor("input").scalars, batch: B, steps: T, features: I)
    let hasC = kind == .lstm
    func state(_ name: String) throws -> [Tensor<Float>] {
      let all: Tensor<Float> = try fixture.tensor(name)
      return (0..<(2 * L)).map { l in Tensor(shape: [B, H], scalars: Array(all.scalars[(l * B * H)..<((l + 1) * B * H)])) }
    }
    let s0 = RecurrentState(h: try state("h0"), c: hasC ? try state("c0") : [])
    let ws = StackWorkspace<Float>()
    x.withUnsafeBufferPointer { xp in
      stack.forward(
        input: xp.baseAddress!, steps: T, batch: B, lengths: lengths, initialState: s0, workspace: ws,
        dropout: nil)
    }
    let top = stack.topOutputs(batch: B, workspace: ws)
    let expectedOutput = timeMajor(try fixture.tensor("output").scalars, batch: B, steps: T, features: 2 * H)
    var ours: [Float] = [], theirs: [Float] = []
    for t in 0..<T {
      for b in 0..<B where t < lengths[b] {
        for j in 0..<(2 * H) {
          ours.append(top[(t * B + b) * 2 * H + j])
          theirs.append(expectedOutput[(t * B + b) * 2 * H + j])
        }
      }
    }
    expectClose(ours, theirs, relativeTolerance: 1e-5, "\(kindName) output")
    let final = stack.finalState(steps: T, batch: B, workspace: ws)
    expectClose(final.h.flatMap(\.scalars), try fixture.tensor("h_n").scalars, relativeTolerance: 1e-5, "h_n")
    if hasC { expectClose(final.c.flatMap(\.scalars), try fixture.tensor("c_n").scalars, relativeTolerance: 1e-5, "c_n") }

    let wOut = timeMajor(try fixture.tensor("w_out").scalars, batch: B, steps: T, features: 2 * H)
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
      expectClose(g.scalars, try fixture.tensor("grad.\(name)").scalars, relativeTolerance: 1e-5, "\(kindName) d\(name)")
    }
    expectClose(dx, timeMajor(try fixture.tensor("grad.input").scalars, batch: B, steps: T, features: I), relativeTolerance: 1e-5, "dinput")
    expectClose(dS0.h.flatMap(\.scalars), try fixture.tensor("grad.h0").scalars, relativeTolerance: 1e-5, "dh0")
    if hasC { expectClose(dS0.c.flatMap(\.scalars), try fixture.tensor("grad.c0").scalars, relativeTolerance: 1e-5, "dc0") }
  }
}

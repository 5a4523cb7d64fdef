import Testing

@testable import Recur

/// Outputs, final states and gradients of PyTorch's nn.RNN, nn.GRU and nn.LSTM (1–3 layers, B = 3,
/// unsorted variable lengths through pack_padded_sequence), from fixtures made by
/// Tests/RecurTests/Fixtures/generate_torch_fixtures.py.
@Suite("PyTorch parity of recurrent stacks")
struct TorchParityTests {
  static let cases: [(String, CellKind)] = [("rnn_tanh", .rnn(.tanh)), ("rnn_relu", .rnn(.relu)), ("gru", .gru), ("lstm", .lstm)]

  @Test(
    "outputs, final states and gradients within 1e-5",
    arguments: [1, 2, 3].flatMap { layers in cases.map { ($0.0, layers) } })
  func parity(kindName: String, layers: Int) throws {
    let kind = try #require(Self.cases.first { $0.0 == kindName }?.1)
    let fixture = try Fixture("torch_\(kindName)_L\(layers)")
    #expect(try fixture.int("num_layers") == layers)
    try expectTorchStackParity(fixture, kind: kind, layers: layers, bidirectional: false, label: "\(kindName) L=\(layers)")
  }
}

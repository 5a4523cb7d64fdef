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
    #expect(try fixture.metadata("bidirectional") == "true")
    let names = try expectTorchStackParity(
      fixture, kind: kind, layers: try fixture.int("num_layers"), bidirectional: true, label: kindName)
    #expect(names.contains("weight_ih_l1_reverse") && names.count == 16)
  }
}

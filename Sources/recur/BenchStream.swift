import Recur

/// `recur bench stream-lstm-H`: a live stream (``RecurrentStream``) through an LSTM of H (16 inputs, a
/// linear head to 4 outputs), batch 1, one step at a time with the state carried, in microseconds per step;
/// lower is better. PyTorch's figure (Benchmarks/torch_compare.py) carries (h, c) through nn.LSTM the same way.
struct StreamWorkload: BenchWorkload {
  var hidden: Int
  var name: String { "stream-lstm-\(hidden)" }
  var unit: String { "µs" }
  var summary: String { "stream one step at a time through an LSTM of H = \(hidden) (I = 16, V = 4), batch 1" }

  static var all: [StreamWorkload] { [128, 512].map { StreamWorkload(hidden: $0) } }

  func prepare(threads: Int) throws -> () -> Double {
    Compute.threadCount = threads
    let network = try RecurrentNetwork<Float>(
      .init(cell: .lstm, inputSize: 16, hiddenSize: hidden, outputSize: 4), seed: 0)
    let stream = try RecurrentStream(network: network)
    var random = SeededGenerator(seed: 1)
    let steps: [[Float]] = (0..<64).map { _ in (0..<16).map { _ in Float(random.nextNormal()) } }
    var t = 0
    func step() {
      _ = try? stream.step(steps[t & 63])
      t += 1
    }
    for _ in 0..<50 { step() }
    return { 1e6 / benchCallsPerSecond(minimumSeconds: 1, step) }
  }
}

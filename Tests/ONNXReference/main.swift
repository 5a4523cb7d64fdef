// Writes ONNX models of random networks together with Recur's own outputs on random inputs, for
// scripts/check_onnx.py, which runs the models in ONNX Runtime and compares (run by .ci/run):
//
//   swift run ONNXReference DIR
//
// For every exportable cell (the chapter's gated RNN, built from elementary operators, included), 1 to 3
// layers, token and vector inputs, one direction and (vector models of LSTM, GRU and RNN; a language model
// cannot be bidirectional) both directions: DIR/<case>.onnx and
// DIR/<case>.reference.safetensors with the inputs (tokens or inputs, sequence_lens, h0, c0) and Recur's
// outputs g_t = f_o(W^o s_t + W^o_0) (T × B × V) and final states (L·D × B × H). The sequences of a batch have
// different lengths, so the reverse direction starts at each sequence's own last step, and the initial
// state is not zero.
import Foundation
import Recur
import RecurExport

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
  FileHandle.standardError.write(Data("usage: ONNXReference DIR\n".utf8))
  exit(2)
}
let directory = URL(fileURLWithPath: arguments[1])
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

let cells: [CellKind] = [.lstm, .gru, .rnn(.tanh), .rnn(.relu), .gated(.tanh), .gated(.relu)]
let activations: [OutputActivation] = [.identity, .sigmoid, .tanh, .softmax]
let T = 7, lengths = [7, 4, 1, 6]
let B = lengths.count
var written = 0
for (c, cell) in cells.enumerated() {
  for layers in 1...3 {
    for tokens in [true, false] {
     for bidirectional in [false, true] {
      if bidirectional && tokens { continue }
      if bidirectional, case .gated = cell {
        // The chapter's gated RNN is exported with one direction only: the export refuses it with one line.
        var generator = SeededGenerator(seed: 1)
        let gated = try RecurrentNetwork<Float>(
          .init(cell: cell, inputSize: 3, hiddenSize: 5, layers: layers, outputSize: 4, bidirectional: true),
          generator: &generator)
        do {
          _ = try ONNXExport.model(gated)
          print("error: a bidirectional gated RNN was exported")
          exit(1)
        } catch let error as ExportError {
          if layers == 1 { print("bidirectional \(cell) refused: \(error.message)") }
        }
        continue
      }
      let seed = UInt64(100 * c + 10 * layers + (tokens ? 1 : 0) + (bidirectional ? 5 : 0))
      var generator = SeededGenerator(seed: seed)
      let configuration: RecurrentNetwork<Float>.Configuration =
        tokens
        ? .languageModel(cell: cell, vocabularySize: 11, embeddingSize: 4, hiddenSize: 5, layers: layers)
        : .init(
          cell: cell, inputSize: 3, hiddenSize: 5, layers: layers, outputSize: 4,
          outputActivation: activations[(c + layers) % activations.count], bidirectional: bidirectional)
      let network = try RecurrentNetwork<Float>(configuration, generator: &generator)
      let H = configuration.hiddenSize, V = configuration.outputSize
      var reference = SafeTensorsFile()
      let inputs: SequenceBatch<Float>.Inputs
      if tokens {
        let ids = (0..<(T * B)).map { _ in Int(generator.next() % UInt64(configuration.inputSize)) }
        inputs = .tokens(ids.map { Int32($0) })
        try reference.add(integers: ids, shape: [T, B], named: "tokens")
      } else {
        let x = Tensor<Float>.normal(shape: [T, B, configuration.inputSize], using: &generator)
        inputs = .vectors(x.scalars, features: configuration.inputSize)
        try reference.add(x, named: "inputs")
      }
      try reference.add(integers: lengths, as: .int32, named: "sequence_lens")
      let batch = try SequenceBatch<Float>(
        steps: T, batchSize: B, lengths: lengths, inputs: inputs,
        targets: .values([Float](repeating: 0, count: T * B * V), width: V))
      var state = network.zeroState(batch: B)
      for l in 0..<(layers * (bidirectional ? 2 : 1)) {
        state.h[l] = .normal(shape: [B, H], standardDeviation: 0.5, using: &generator)
        if !state.c.isEmpty { state.c[l] = .normal(shape: [B, H], standardDeviation: 0.5, using: &generator) }
      }
      let (outputs, final) = try network.outputs(for: batch, initialState: state)
      func stacked(_ tensors: [Tensor<Float>]) -> Tensor<Float> {
        Tensor(shape: [tensors.count, B, H], scalars: tensors.flatMap(\.scalars))
      }
      try reference.add(stacked(state.h), named: "h0")
      try reference.add(outputs, named: "output")
      try reference.add(stacked(final.h), named: "hn")
      if !state.c.isEmpty {
        try reference.add(stacked(state.c), named: "c0")
        try reference.add(stacked(final.c), named: "cn")
      }
      let name =
        "\(cell)_L\(layers)\(bidirectional ? "_bidirectional" : "")_\(tokens ? "tokens" : "vectors")_"
        + configuration.outputActivation.rawValue
      try ONNXExport.write(network, metadata: ["recur.case": name], to: directory.appendingPathComponent(name + ".onnx"))
      try reference.write(to: directory.appendingPathComponent(name + ".reference.safetensors"))
      written += 1
     }
    }
  }
}
// An RNN with f_s = identity has no ONNX RNN activation: the export refuses it with one line.
do {
  let identity = try RecurrentNetwork<Float>(.init(cell: .rnn(.identity), inputSize: 2, hiddenSize: 3, outputSize: 1))
  _ = try ONNXExport.model(identity)
  print("error: the identity RNN was exported")
  exit(1)
} catch let error as ExportError {
  print("identity RNN refused: \(error.message)")
}
print("\(written) models with Recur's outputs written to \(directory.path)")

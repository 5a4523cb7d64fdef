// Loads a character language model trained in PyTorch and writes text with it.
//
//     swift run PyTorchTextExample [checkpoint.safetensors] [prime]
//
// Without arguments it loads Resources/machines.safetensors, a one-layer LSTM that
// Examples/PyTorchText/make_checkpoint.py trained with interop/recur_torch.py on Resources/machines.txt.
import Foundation
import Recur

let arguments = CommandLine.arguments.dropFirst()
let url: URL
if let path = arguments.first {
  url = URL(fileURLWithPath: path)
} else if let bundled = Bundle.module.url(forResource: "machines", withExtension: "safetensors") {
  url = bundled
} else {
  print("error: the bundled checkpoint machines.safetensors is missing; pass a checkpoint path")
  exit(1)
}
let prime = arguments.dropFirst().first ?? "A machine "

do {
  let checkpoint = try Checkpoint<Float>(contentsOf: url)
  let vocabulary = try Vocabulary(metadata: checkpoint.metadata)
  let configuration = checkpoint.network.configuration
  print(
    "\(url.lastPathComponent): \(configuration.layers)-layer \(configuration.cell), H = \(configuration.hiddenSize),",
    "\(vocabulary.count) tokens, \(checkpoint.network.parameterCount) parameters")

  let sampler = try TextSampler(network: checkpoint.network)
  var random = SeededGenerator(seed: 1)
  for temperature in [0.0, 0.5] {
    print("\n— temperature \(temperature):")
    try sampler.generateText(
      vocabulary: vocabulary, mode: .stream, prime: prime, length: 240,
      options: SamplingOptions(temperature: temperature), using: &random
    ) { bytes in print(String(decoding: bytes, as: UTF8.self), terminator: "") }
    print()
  }
} catch {
  print("error: \(error)")
  exit(1)
}

import ArgumentParser
import Foundation
import Recur

/// `recur sample --checkpoint C`: writes text with a trained language model, character by character.
struct SampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sample",
    abstract: "Write text with a trained language model.",
    discussion: """
      Characters are written as they are drawn. A model trained in lines or documents mode starts from \
      <start> and stops at <end>; a stream model continues the prime (or starts after a line break).
      """
  )

  @Option(help: "The checkpoint (Recur's, or one saved by interop/recur_torch.py).")
  var checkpoint: String

  @OptionGroup(title: "Weights")
  var weightsOptions: WeightsOptions

  @Option(help: "The most characters to draw.")
  var length = 500

  @Option(help: "τ: below 1 is more conservative, above 1 more adventurous, 0 always takes the likeliest character.")
  var temperature = 0.8

  @Option(name: .customLong("top-k"), help: "Draw only among the k likeliest characters.")
  var topK: Int?

  @Option(help: "Text the model reads first; the sample continues it.")
  var prime = ""

  @Option(help: "Seed of the draws (default: a new one each run).")
  var seed: UInt64?

  func validate() throws {
    guard length >= 0 else { throw CLIError("--length must be 0 or more, got \(length)") }
    guard temperature.isFinite, temperature >= 0 else { throw CLIError("--temperature must be a number ≥ 0, got \(temperature)") }
    if let topK, topK < 1 { throw CLIError("--top-k must be at least 1, got \(topK)") }
  }

  func run() throws {
    let model = try readLanguageModel(path: checkpoint, weights: weightsOptions.weights)
    _ = try oneLine("--prime") { try model.vocabulary.encode(prime) }
    let generator = try oneLine("") { try TextSampler(network: model.network) }
    var rng = SeededGenerator(seed: seed ?? UInt64.random(in: 0...UInt64.max))
    _ = try oneLine("") {
      try generator.generateText(
        vocabulary: model.vocabulary, mode: model.mode, prime: prime, length: length,
        options: SamplingOptions(temperature: temperature, topK: topK), using: &rng, output: writeOut)
    }
    writeOut(Array("\n".utf8))
  }
}

import ArgumentParser
import Foundation
import Recur

/// `recur extract`: reads a finite state machine back out of a network trained on the parity task.
struct ExtractCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "extract",
    abstract: "Extract a finite state machine from an RNN trained on parity, minimize it and compare it with the chapter's machine.",
    discussion: """
      Uses the model in --checkpoint (trained with recur task parity --checkpoint FILE), or trains one first. \
      Hidden states along many random strings are clustered with k-means (k = 2, 3, … until the machine \
      agrees with the network on every step of fresh strings), transitions are taken by majority vote, and \
      the machine is minimized and checked on held-out strings against the network and the chapter's \
      two-state parity machine. The minimized machine is written in Graphviz DOT.
      """
  )

  @Option(help: "A model trained on the parity task.")
  var checkpoint: String?

  @OptionGroup(title: "Model (when no checkpoint is given)")
  var model: ModelOptions<ExtractDefaults>

  @Option(help: "Training updates when no checkpoint is given.")
  var steps = 1500

  @Option(help: "The largest number of clusters to try.")
  var clusters = 12

  @Option(help: "Seed for training, strings and k-means.")
  var seed: UInt64 = 1

  @Option(name: .shortAndLong, help: "Write the minimized machine to this DOT file.")
  var output = "extracted.dot"

  func validate() throws {
    guard steps >= 1 else { throw CLIError("--steps must be at least 1, got \(steps)") }
    guard clusters >= 2 else { throw CLIError("--clusters must be at least 2, got \(clusters)") }
  }

  func run() throws {
    let task = try ParityTask(maxLength: 10)
    let network: RecurrentNetwork<Float>
    if let checkpoint {
      network = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: checkpoint)).network
      guard network.configuration.inputSize == 2, network.configuration.outputSize == 1, network.configuration.embeddingSize == nil else {
        throw CLIError("the model does not have the parity task's shape (2 inputs, 1 output)")
      }
    } else {
      let shape = try model.shape()
      print("training \(shape.cell), H = \(shape.hiddenSize), on \(task.summary) for \(steps) steps …")
      let untrained = try shape.makeNetwork(
        inputSize: task.inputSize, outputSize: task.outputSize, outputActivation: task.outputActivation, seed: seed)
      network = try task.train(untrained, options: TaskTrainingOptions(batchSize: 32, steps: steps, seed: seed)).network
    }
    var g = SeededGenerator(seed: seed &+ 1)
    print("network: \(try task.evaluate(network, generator: &g))")
    let result = try Self.extractParity(from: network, maxClusters: clusters, seed: seed)
    Self.printReport(result)
    try result.minimized.graphvizDOT(name: "extracted").write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
    print("minimized machine written to \(output)")
  }

  /// Extraction on parity with the standard alphabet and labels.
  static func extractParity<Scalar: RecurScalar>(from network: RecurrentNetwork<Scalar>, maxClusters: Int, seed: UInt64)
    throws -> ExtractedMachine
  {
    try StateMachineExtraction.extract(
      from: network, alphabet: [("0", ParityTask.input("0")), ("1", ParityTask.input("1"))], label: ParityTask.label,
      target: .parityOfZeros, options: .init(clusterCounts: Array(2...maxClusters), seed: seed))
  }

  static func printReport(_ result: ExtractedMachine) {
    print("k-means: " + result.agreementByClusterCount.map { String(format: "k = %d agrees %.4f", $0.k, $0.agreement) }.joined(separator: "; "))
    print("quantized machine: \(result.machine.states.count) states; minimized: \(result.minimized.states.count) states")
    print(result.minimized.tableDescription, terminator: result.minimized.tableDescription.hasSuffix("\n") ? "" : "\n")
    print(String(format: "held-out agreement: with the network %.4f", result.agreementWithNetwork), terminator: "")
    if let t = result.agreementWithTarget { print(String(format: ", with the parity machine %.4f", t), terminator: "") }
    if let n = result.networkAgreementWithTarget { print(String(format: " (network vs parity %.4f)", n), terminator: "") }
    print("")
    if let equivalent = result.equivalentToTarget {
      print(equivalent ? "the minimized machine IS the chapter's two-state parity machine (equivalent)" : "the minimized machine is NOT equivalent to the parity machine")
    }
  }
}

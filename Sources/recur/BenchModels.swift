import Foundation
import Recur

/// The models of the training workloads: V = 65 characters, embedding size = hidden size, as
/// `Benchmarks/torch_compare.py` defines them.
enum BenchModel {
  static let vocabularySize = 65
  static let learningRate = 2e-3
  static let clipNorm = 5.0

  /// name: (cell, hidden size = embedding size, layers, batch, sequence length)
  static let training: [(name: String, cell: CellKind, hidden: Int, layers: Int, batch: Int, steps: Int)] = [
    ("train-s", .lstm, 128, 2, 50, 50),
    ("train-m", .lstm, 512, 2, 32, 64),
    ("train-m-reg", .lstm, 512, 2, 32, 64),
    ("train-m-reg-input", .lstm, 512, 2, 32, 64),
    ("train-gru", .gru, 512, 2, 32, 64),
    ("train-rnn", .rnn(.tanh), 512, 2, 32, 64),
  ]

  /// `train-m-reg`: train-m with weight drop on W_hh and locked dropout between the layers and before the head,
  /// to measure what the regularizers cost (none of the others has any); `train-m-reg-input` adds locked
  /// dropout on the embedding output, which also gives up the bottom layer's projected token table (a mask
  /// per sequence makes every row of the input projection its own product).
  static func regularization(_ name: String) -> Regularization {
    switch name {
    case "train-m-reg": Regularization(hiddenDropout: 0.2, outputDropout: 0.2, weightDrop: 0.3)
    case "train-m-reg-input": Regularization(inputDropout: 0.1, hiddenDropout: 0.2, outputDropout: 0.2, weightDrop: 0.3)
    default: Regularization()
    }
  }

  static func configuration(cell: CellKind, hidden: Int, layers: Int, regularization: Regularization = Regularization())
    -> RecurrentNetwork<Float>.Configuration
  {
    .languageModel(
      cell: cell, vocabularySize: vocabularySize, embeddingSize: hidden, hiddenSize: hidden, layers: layers,
      regularization: regularization)
  }

  /// A trainer of workload `name` on random tokens (Adam, clipping at norm 5, cross-entropy averaged over
  /// tokens, zero initial state for every batch), and the tokens of one step.
  static func trainer(_ name: String) throws -> (trainer: Trainer<RandomTokenBatches>, tokens: Int) {
    guard let w = training.first(where: { $0.name == name }) else {
      throw ModelError("no training workload is named '\(name)'")
    }
    let network = try RecurrentNetwork<Float>(
      configuration(
        cell: w.cell, hidden: w.hidden, layers: w.layers,
        regularization: regularization(name)),
      seed: 0)
    let data = try RandomTokenBatches(batch: w.batch, steps: w.steps, vocabularySize: vocabularySize, seed: 1)
    let options = TrainerOptions(
      optimizer: .adam(learningRate: learningRate), clipping: .globalNorm(clipNorm), loss: .crossEntropy,
      reduction: .meanOverSteps, budget: TrainingBudget(steps: Int.max), divergenceFactor: nil)
    return (try Trainer(network: network, data: data, options: options), w.batch * w.steps)
  }
}

/// Four batches of uniformly random tokens, served in turn, each starting from the zero state: the data of
/// the training workloads (as PyTorch's side draws `torch.randint`).
struct RandomTokenBatches: TrainingData {
  typealias Scalar = Float
  private let batches: [SequenceBatch<Float>]
  private(set) var position = DataPosition(epoch: 0, batchIndex: 0, generator: SeededGenerator(seed: 0))

  init(batch: Int, steps: Int, vocabularySize: Int, seed: UInt64) throws {
    var generator = SeededGenerator(seed: seed)
    var made: [SequenceBatch<Float>] = []
    for _ in 0..<4 {
      // One stream of T + 1 tokens per sequence; time-major inputs x_t and targets x_{t+1}.
      let streams = (0..<batch).map { _ in
        (0...steps).map { _ in Int32(generator.next() % UInt64(vocabularySize)) }
      }
      var inputs: [Int32] = [], targets: [Int32] = []
      for t in 0..<steps {
        for b in 0..<batch {
          inputs.append(streams[b][t])
          targets.append(streams[b][t + 1])
        }
      }
      made.append(try SequenceBatch(steps: steps, batchSize: batch, inputs: .tokens(inputs), targets: .classes(targets)))
    }
    batches = made
  }

  var batchesPerEpoch: Int { batches.count }

  mutating func restore(_ position: DataPosition) throws { self.position = position }

  mutating func nextBatch() throws -> TrainingBatch<Float> {
    let batch = batches[position.batchIndex]
    position.batchIndex += 1
    if position.batchIndex == batches.count {
      position.batchIndex = 0
      position.epoch += 1
    }
    return TrainingBatch(batch: batch, continuesPrevious: false)
  }
}

/// `recur bench train-…`: training tokens per second (one step: forward, BPTT, clipping, Adam).
struct TrainingWorkload: BenchWorkload {
  var name: String
  var unit: String { "tokens/s" }
  var summary: String {
    guard let w = BenchModel.training.first(where: { $0.name == name }) else { return "" }
    let r = BenchModel.regularization(name)
    let regularizers = r.isActive
      ? ", weight drop \(r.weightDrop), locked dropout \(r.inputDropout)/\(r.hiddenDropout)/\(r.outputDropout) (input/hidden/output)" : ""
    return "train \(w.cell) H=\(w.hidden) L=\(w.layers) B=\(w.batch) T=\(w.steps), Adam, clip 5\(regularizers)"
  }

  static var all: [TrainingWorkload] { BenchModel.training.map { TrainingWorkload(name: $0.name) } }

  func prepare(threads: Int) throws -> () -> Double {
    Compute.threadCount = threads
    let (trainer, tokens) = try BenchModel.trainer(name)
    for _ in 0..<2 { try trainer.step() }  // warm up: grow the workspaces and optimizer buffers
    return {
      benchCallsPerSecond(minimumSeconds: 1) { _ = try? trainer.step() } * Double(tokens)
    }
  }
}

/// `recur bench gen-m`: the train-m model generating one character at a time (B = 1), sampling each step.
struct GenerationWorkload: BenchWorkload {
  var name: String { "gen-m" }
  var unit: String { "tokens/s" }
  var summary: String { "generate with the train-m model (LSTM 512 × 2), batch 1, sampling each token" }

  func prepare(threads: Int) throws -> () -> Double {
    Compute.threadCount = threads
    let network = try RecurrentNetwork<Float>(BenchModel.configuration(cell: .lstm, hidden: 512, layers: 2), seed: 0)
    let generator = try TextSampler(network: network)
    var random = SeededGenerator(seed: 1)
    var token = 0
    let options = SamplingOptions()
    func step() {
      generator.step(token)
      token = generator.sample(options, using: &random)
    }
    for _ in 0..<50 { step() }
    return { benchCallsPerSecond(minimumSeconds: 1, step) }
  }
}

/// `recur bench lstm-layer-H-B-T`: one LSTM layer (input size H) forward over T steps of B sequences and
/// back (with the input gradient), in milliseconds; lower is better.
struct LSTMLayerWorkload: BenchWorkload {
  var hidden: Int, batch: Int, steps: Int

  /// The DeepBench shapes (H, B, T).
  static let shapes = [(512, 16, 25), (512, 64, 50), (1024, 32, 25), (256, 16, 150)]
  static var all: [LSTMLayerWorkload] { shapes.map { LSTMLayerWorkload(hidden: $0, batch: $1, steps: $2) } }

  /// The workload a name like "lstm-layer-512-16-25" stands for, if it is one.
  init?(name: String) {
    let parts = name.split(separator: "-")
    guard parts.count == 5, parts[0] == "lstm", parts[1] == "layer",
      let h = Int(parts[2]), let b = Int(parts[3]), let t = Int(parts[4]), h > 0, b > 0, t > 0
    else { return nil }
    self.init(hidden: h, batch: b, steps: t)
  }

  init(hidden: Int, batch: Int, steps: Int) {
    self.hidden = hidden
    self.batch = batch
    self.steps = steps
  }

  var name: String { "lstm-layer-\(hidden)-\(batch)-\(steps)" }
  var unit: String { "ms" }
  var summary: String { "one LSTM layer H=\(hidden) forward + backward, B=\(batch) T=\(steps)" }

  func prepare(threads: Int) throws -> () -> Double {
    Compute.threadCount = threads
    var random = SeededGenerator(seed: 0)
    let layer = RecurrentLayer<Float>(kind: .lstm, inputSize: hidden, hiddenSize: hidden, generator: &random)
    var gradient = RecurrentLayer<Float>(kind: .lstm, inputSize: hidden, hiddenSize: hidden, generator: &random)
    let shape = [steps, batch, hidden]
    let input = Tensor<Float>.normal(shape: shape, using: &random)
    let outputGradient = Tensor<Float>.normal(shape: shape, using: &random)
    var inputGradient = Tensor<Float>(shape: shape)
    let workspace = LayerWorkspace<Float>()
    func pass() {
      try? layer.trainingPass(
        input: input, outputGradient: outputGradient, workspace: workspace, gradient: &gradient,
        inputGradient: &inputGradient)
    }
    for _ in 0..<3 { pass() }
    return { 1000 / benchCallsPerSecond(minimumSeconds: 1, pass) }
  }
}

/// `recur bench memory-train-m`: the peak resident memory (ru_maxrss) of a fresh `recur` process that
/// trains train-m for three steps, in MiB; lower is better.
struct MemoryWorkload: BenchWorkload {
  var name: String { "memory-train-m" }
  var unit: String { "MiB" }
  var summary: String { "peak resident memory of a process training train-m for 3 steps" }

  func prepare(threads: Int) throws -> () -> Double {
    #if os(Linux)
      let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    #else
      let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    #endif
    return {
      let process = Process()
      let pipe = Pipe()
      process.executableURL = executable
      process.arguments = ["bench", "--threads", "\(threads)", "--memory-child", "train-m"]
      process.standardOutput = pipe
      do { try process.run() } catch { return .nan }
      let data = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      return (Double(text) ?? .nan) / 1024
    }
  }

  /// Trains `name` for three steps in this process and prints its peak resident set in KiB.
  static func runChild(_ name: String, threads: Int) throws {
    Compute.threadCount = threads
    let (trainer, _) = try BenchModel.trainer(name)
    for _ in 0..<3 { try trainer.step() }
    var usage = rusage()
    #if os(Linux)
      getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
      print(usage.ru_maxrss)  // KiB
    #else
      getrusage(RUSAGE_SELF, &usage)
      print(usage.ru_maxrss / 1024)  // bytes on Darwin
    #endif
  }
}

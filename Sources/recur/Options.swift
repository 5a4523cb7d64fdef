import ArgumentParser
import Foundation
import Recur

// One flag vocabulary for every subcommand that trains: the model (--cell, --hidden, --layers, --dropout,
// --forget-bias), the optimization (--optimizer, --learning-rate, --clip, --schedule, --warmup) and the run
// (--steps, --time, --batch-size, --seed, --threads). Older spellings stay as hidden aliases: --model for
// --cell and --lr for --learning-rate. Each command's defaults come from the library (`RunDefaults`).

extension CellKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
  public static var allValueStrings: [String] { ["lstm", "gru", "rnn", "rnn_relu", "gated", "gated_relu"] }
  public var defaultValueDescription: String { description }
}

extension OptimizerChoice: ExpressibleByArgument {}
extension ScheduleChoice: ExpressibleByArgument {}
extension TextMode: ExpressibleByArgument {}
extension Vocabulary.Kind: ExpressibleByArgument {}
extension SequenceDataset.TargetKind: ExpressibleByArgument {}

/// The defaults a command's option groups fall back on: `recur train`'s language model or the sequence models
/// of `recur fit`, `recur task` and `recur extract`.
protocol CommandDefaults {
  static var run: RunDefaults { get }
  /// Whether the command's models read token ids (an embedding): then the embedding's options show.
  static var tokens: Bool { get }
}

extension CommandDefaults {
  static var tokens: Bool { false }
}

enum LanguageModelDefaults: CommandDefaults {
  static var run: RunDefaults { .languageModel }
  static var tokens: Bool { true }
}

enum SequenceModelDefaults: CommandDefaults {
  static var run: RunDefaults { .sequenceModel }
}

/// `recur extract` trains its parity network (when no checkpoint is given) with the sequence models'
/// defaults but PyTorch's initialization.
enum ExtractDefaults: CommandDefaults {
  static var run: RunDefaults {
    var defaults = RunDefaults.sequenceModel
    defaults.forgetGateBias = nil
    return defaults
  }
}

/// The one rule for a size option: at least 1 and at most the library's limit.
func checkSize(_ value: Int?, _ flag: String, most: Int, tooLarge: String = "is absurdly large") throws {
  guard let value else { return }
  if value < 1 { throw CLIError("\(flag) must be at least 1, got \(value)") }
  if value > most { throw CLIError("\(flag) \(value) \(tooLarge) (the most is \(most))") }
}

/// One value given under a flag or under its hidden older spelling (not both).
func either<T>(_ value: T?, _ alias: T?, _ flag: String, _ aliasFlag: String) throws -> T? {
  if value != nil, alias != nil { throw CLIError("\(aliasFlag) is the older spelling of \(flag); give one of them") }
  return value ?? alias
}

/// The network's shape: --cell, --hidden, --layers, --dropout, --forget-bias.
struct ModelOptions<Defaults: CommandDefaults>: ParsableArguments {
  @Option(help: "The cell; rnn is the chapter's RNN (tanh), gated the chapter's gated RNN (default \(Defaults.run.cell)).")
  var cell: CellKind?

  @Option(name: .customLong("model"), help: .hidden)
  var modelAlias: CellKind?

  @Option(parsing: .unconditional, help: "H, the state size of each layer (default \(Defaults.run.hiddenSize); at most \(NetworkLimits.hiddenSize)).")
  var hidden: Int?

  @Option(parsing: .unconditional, help: "L, the number of layers (default \(Defaults.run.layers)).")
  var layers: Int?

  @Option(help: "Dropout between layers (and on the embedding) while training (default \(Defaults.run.dropout)).")
  var dropout: Double?

  @Option(name: .customLong("embedding-dropout"), help: ArgumentHelp("Drop whole rows of the embedding while training, one mask per batch (default \(Defaults.run.regularization.embeddingDropout)).", visibility: Defaults.tokens ? .default : .hidden))
  var embeddingDropout: Double?

  @Option(name: .customLong("input-dropout"), help: ArgumentHelp("Locked dropout on the embedding output: one mask per sequence, shared by every step (default \(Defaults.run.regularization.inputDropout)).", visibility: Defaults.tokens ? .default : .hidden))
  var inputDropout: Double?

  @Option(name: .customLong("hidden-dropout"), help: "Locked dropout between layers (default \(Defaults.run.regularization.hiddenDropout)).")
  var hiddenDropout: Double?

  @Option(name: .customLong("output-dropout"), help: "Locked dropout on the top layer's outputs, before the head (default \(Defaults.run.regularization.outputDropout)).")
  var outputDropout: Double?

  @Option(name: .customLong("weight-drop"), help: "DropConnect on every layer's recurrent weights W_hh, one mask per batch (default \(Defaults.run.regularization.weightDrop)).")
  var weightDrop: Double?

  @Option(name: .customLong("forget-bias"), help: "The LSTM forget-gate bias at initialization (default \(Defaults.run.forgetGateBias.map { "\($0)" } ?? "PyTorch's initialization, no change")).")
  var forgetBias: Double?

  func validate() throws {
    _ = try givenCell
    try checkSize(hidden, "--hidden", most: NetworkLimits.hiddenSize)
    try checkSize(layers, "--layers", most: NetworkLimits.layers, tooLarge: "is too many")
    for (value, flag) in [(dropout, "--dropout"), (embeddingDropout, "--embedding-dropout"),
      (inputDropout, "--input-dropout"), (hiddenDropout, "--hidden-dropout"), (outputDropout, "--output-dropout"),
      (weightDrop, "--weight-drop")]
    {
      if let value, !(value.isFinite && value >= 0 && value < 1) {
        throw CLIError("\(flag) must be in [0, 1), got \(value)")
      }
    }
    if let dropout, dropout > 0, (inputDropout ?? 0) > 0 || (hiddenDropout ?? 0) > 0 {
      throw CLIError("--dropout (a new mask every step) and --input-dropout/--hidden-dropout (locked masks) act on the same values: give one")
    }
    if let forgetBias, !forgetBias.isFinite { throw CLIError("--forget-bias must be a number, got \(forgetBias)") }
  }

  /// The cell as given (under --cell or --model), nil when not given.
  var givenCell: CellKind? { get throws { try either(cell, modelAlias, "--cell", "--model") } }

  /// The shape with the command's defaults for what was not given.
  func shape() throws -> NetworkShape {
    let d = Defaults.run
    var shape = NetworkShape(
      cell: try givenCell ?? d.cell, hiddenSize: hidden ?? d.hiddenSize, layers: layers ?? d.layers,
      dropout: plainDropout(default: d.dropout), forgetGateBias: forgetBias ?? d.forgetGateBias)
    shape.regularization = regularization(defaults: d.regularization)
    return shape
  }

  /// Plain dropout as given, else `default` — unless locked --input-dropout or --hidden-dropout is given, which
  /// replaces it (the two act on the same values), as a given --dropout replaces the default locked dropout.
  func plainDropout(default value: Double) -> Double {
    if let dropout { return dropout }
    return (inputDropout ?? 0) > 0 || (hiddenDropout ?? 0) > 0 ? 0 : value
  }

  /// The regularizers given, the defaults for the rest; plain --dropout replaces the default locked input and
  /// hidden dropout (the two act on the same values).
  func regularization(defaults: Regularization) -> Regularization {
    var r = defaults
    if let dropout, dropout > 0 {
      r.inputDropout = 0
      r.hiddenDropout = 0
    }
    if let embeddingDropout { r.embeddingDropout = embeddingDropout }
    if let inputDropout { r.inputDropout = inputDropout }
    if let hiddenDropout { r.hiddenDropout = hiddenDropout }
    if let outputDropout { r.outputDropout = outputDropout }
    if let weightDrop { r.weightDrop = weightDrop }
    return r
  }

  /// Whether any regularizer was given on the command line.
  var givesRegularization: Bool {
    [dropout, embeddingDropout, inputDropout, hiddenDropout, outputDropout, weightDrop].contains { $0 != nil }
  }
}

/// The optimization: --optimizer, --learning-rate, --clip, --schedule, --warmup.
struct OptimizationOptions<Defaults: CommandDefaults>: ParsableArguments {
  @Option(help: "The optimizer (default \(Defaults.run.optimizer.rawValue)).")
  var optimizer: OptimizerChoice?

  @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "The base learning rate η (default \(Defaults.run.adaptiveLearningRate) for adam, adamw and rmsprop; \(Defaults.run.plainLearningRate) for sgd and adagrad).")
  var learningRate: Double?

  @Option(name: .customLong("lr"), parsing: .unconditional, help: .hidden)
  var lrAlias: Double?

  @Option(help: "Clip the gradient's global norm to this value (0: no clipping; default \(Defaults.run.clip)).")
  var clip: Double?

  @Option(help: "The learning-rate schedule: constant; step, ×0.97 each epoch after the 10th (as char-rnn); cosine, to η/10 at the end of the budget (default \(Defaults.run.schedule.rawValue)).")
  var schedule: ScheduleChoice?

  @Option(help: "Linear warm-up steps of the cosine schedule (default \(Defaults.run.warmup)).")
  var warmup: Int?

  @Option(help: "Keep an average θ̄ of the weights for validation and for the saved model: none, ema (θ̄ ← β θ̄ + (1 − β) θ after each step) or uniform (the mean of the iterates, averaged SGD) (default \(Defaults.run.averaging.map(AverageChoice.init) ?? .none)).")
  var average: AverageChoice?

  @Option(name: .customLong("average-decay"), help: "β of --average ema (default 0.999).")
  var averageDecay: Double?

  @Option(name: .customLong("average-start"), help: "Average the weights after the steps past this one (default 0: from the first step).")
  var averageStart: Int?

  func validate() throws {
    if let lr = try givenLearningRate, !(lr.isFinite && lr > 0) {
      throw CLIError("--learning-rate must be positive, got \(lr)")
    }
    if let clip, !(clip.isFinite && clip >= 0) { throw CLIError("--clip must be 0 or positive, got \(clip)") }
    if let warmup, warmup < 0 { throw CLIError("--warmup must be 0 or more, got \(warmup)") }
    if let averageDecay, !(averageDecay > 0 && averageDecay < 1) {
      throw CLIError("--average-decay must lie strictly between 0 and 1, got \(averageDecay)")
    }
    if let averageStart, averageStart < 0 { throw CLIError("--average-start must be 0 or more, got \(averageStart)") }
    let chosen = average ?? Defaults.run.averaging.map(AverageChoice.init) ?? AverageChoice.none
    if averageDecay != nil || averageStart != nil, chosen == .none {
      throw CLIError("--average-decay and --average-start need --average ema or uniform")
    }
    if averageDecay != nil, average == .uniform { throw CLIError("--average-decay is for --average ema, not uniform") }
  }

  /// The weight averaging asked for (or the command's default).
  var averaging: WeightAveraging? {
    let start = averageStart ?? Defaults.run.averaging?.start ?? 0
    switch average {
    case nil: return Defaults.run.averaging
    case .none?: return nil
    case .ema?: return .exponential(decay: averageDecay ?? 0.999, start: start)
    case .uniform?: return .uniform(start: start)
    }
  }

  /// The learning rate as given (under --learning-rate or --lr), nil when not given.
  var givenLearningRate: Double? { get throws { try either(learningRate, lrAlias, "--learning-rate", "--lr") } }

  var optimizerChoice: OptimizerChoice { optimizer ?? Defaults.run.optimizer }

  /// The optimizer at the given or default learning rate.
  func makeOptimizer() throws -> Optimizer {
    let choice = optimizerChoice
    return choice.optimizer(learningRate: try givenLearningRate ?? Defaults.run.learningRate(for: choice))
  }

  var clipping: GradientClipping { .globalNormOrNone(clip ?? Defaults.run.clip) }

  var scheduleChoice: ScheduleChoice { schedule ?? Defaults.run.schedule }
  var warmupSteps: Int { warmup ?? Defaults.run.warmup }
}

/// The run: --steps, --time, --batch-size, --seed, --threads.
struct RunOptions<Defaults: CommandDefaults>: ParsableArguments {
  @Option(parsing: .unconditional, help: "Stop after this many steps in all\(Defaults.run.defaultSteps.map { " (default \($0) when no other budget is given)" } ?? "").")
  var steps: Int?

  @Option(help: "Stop after this many seconds of training.")
  var time: Double?

  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "B, the sequences (or streams) per step (default \(Defaults.run.batchSize)).")
  var batchSize: Int?

  @Option(help: "Seed of the initialization, dropout and data (default \(Defaults.run.seed)).")
  var seed: UInt64?

  @Option(help: "Threads for the matrix products (default: all processors).")
  var threads: Int?

  func validate() throws {
    if let steps, steps < 1 { throw CLIError("--steps must be at least 1, got \(steps)") }
    if let time, !(time.isFinite && time > 0) { throw CLIError("--time must be a positive number of seconds, got \(time)") }
    if let batchSize, !(1...100_000).contains(batchSize) {
      throw CLIError("--batch-size must be in 1…100000, got \(batchSize)")
    }
    if let threads, !(1...1024).contains(threads) { throw CLIError("--threads must be in 1…1024, got \(threads)") }
  }

  var seedValue: UInt64 { seed ?? Defaults.run.seed }
  var batch: Int { batchSize ?? Defaults.run.batchSize }

  /// Sets the compute threads when --threads is given.
  func applyThreads() {
    if let threads { Compute.threadCount = threads }
  }
}

extension ModelWeights: ExpressibleByArgument {}

/// Which weights of a checkpoint a command uses: --weights averaged|raw.
struct WeightsOptions: ParsableArguments {
  @Option(help: "The weights to use when the checkpoint holds an average of them (recur train --average): averaged (default) or raw.")
  var weights: ModelWeights = .averaged
}

/// --average: how the weights are averaged for evaluation.
enum AverageChoice: String, ExpressibleByArgument, CaseIterable {
  case none, ema, uniform

  /// The flags that ask for `averaging`, for messages.
  static func flags(_ averaging: WeightAveraging?) -> String {
    switch averaging {
    case nil: "--average none"
    case .exponential(let decay, let start)?: "--average ema --average-decay \(decay) --average-start \(start)"
    case .uniform(let start)?: "--average uniform --average-start \(start)"
    }
  }

  init(_ averaging: WeightAveraging) {
    switch averaging {
    case .exponential: self = .ema
    case .uniform: self = .uniform
    }
  }
}

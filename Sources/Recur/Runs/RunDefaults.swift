/// The optimizers a run can be told to use by name (`recur … --optimizer NAME`).
public enum OptimizerChoice: String, Sendable, CaseIterable {
  /// `torch.optim.Adam`.
  case adam
  /// `torch.optim.AdamW` (weight decay 0.01).
  case adamw
  /// `torch.optim.SGD` without momentum.
  case sgd
  /// `torch.optim.RMSprop` with α = 0.95, as char-rnn.
  case rmsprop
  /// `torch.optim.Adagrad`.
  case adagrad

  /// Whether the method scales each step by a running estimate of the gradient's size (Adam, AdamW,
  /// RMSprop), which takes a smaller learning rate than plain SGD and Adagrad.
  public var isAdaptive: Bool { self == .adam || self == .adamw || self == .rmsprop }

  /// The optimizer with base learning rate η.
  public func optimizer(learningRate η: Double) -> Optimizer {
    switch self {
    case .adam: .adam(learningRate: η)
    case .adamw: .adamW(learningRate: η)
    case .sgd: .sgd(learningRate: η)
    case .rmsprop: .rmsprop(learningRate: η, alpha: 0.95)
    case .adagrad: .adagrad(learningRate: η)
    }
  }
}

/// The learning-rate schedules a run can be told to use by name (`recur … --schedule NAME`).
public enum ScheduleChoice: String, Sendable, CaseIterable {
  /// η_t = η.
  case constant
  /// ×0.97 at the end of each epoch from the 10th on, as char-rnn.
  case step
  /// Linear warm-up, then a half cosine down to η/10 at the end of the budget.
  case cosine

  /// The schedule for a run of `plannedSteps` steps (nil: unknown; a cosine then spans its warm-up only, until
  /// it is fitted to a time budget with ``LearningRateSchedule/fitted(toSteps:)``).
  ///
  /// - Parameters:
  ///   - learningRate: η, the base rate (the cosine decays to η/10).
  ///   - warmup: the cosine's linear warm-up steps.
  ///   - plannedSteps: the steps the budget allows, when known.
  ///   - stepsPerEpoch: batches per pass over the data (the step decay's unit).
  public func schedule(learningRate: Double, warmup: Int, plannedSteps: Int?, stepsPerEpoch: Int)
    -> LearningRateSchedule
  {
    switch self {
    case .constant:
      return .constant
    case .step:
      return .stepDecay(factor: 0.97, everyEpochs: 1, afterEpoch: 10, stepsPerEpoch: stepsPerEpoch)
    case .cosine:
      let total = max(plannedSteps ?? 1, warmup)
      return .cosine(warmup: min(warmup, total), total: total, minimum: learningRate / 10)
    }
  }
}

extension LearningRateSchedule {
  /// A cosine schedule stretched or shrunk to end at step `total` (its warm-up capped at `total`); any other
  /// schedule unchanged. Used to fit the decay to the steps a time budget allows
  /// (``StepTiming/steps(in:validationInterval:)``).
  public func fitted(toSteps total: Int) -> LearningRateSchedule {
    guard case .cosine(let warmup, _, let minimum) = self else { return self }
    return .cosine(warmup: min(warmup, total), total: total, minimum: minimum)
  }
}

/// The defaults of a training run, each written once: the character language model of `recur train`
/// (``languageModel``) and the sequence models of `recur fit` and `recur task` (``sequenceModel``).
public struct RunDefaults: Sendable, Equatable {
  /// The cell.
  public var cell: CellKind
  /// H, the state size of each layer.
  public var hiddenSize: Int
  /// L, the number of layers.
  public var layers: Int
  /// E, the embedding size (token models only).
  public var embeddingSize: Int?
  /// Dropout on the embedding and between layers while training.
  public var dropout: Double
  /// B, sequences (or streams) per step.
  public var batchSize: Int
  /// T, the steps per chunk of a stream (language models only).
  public var sequenceLength: Int?
  /// The optimizer.
  public var optimizer: OptimizerChoice
  /// η for the adaptive optimizers (``OptimizerChoice/isAdaptive``).
  public var adaptiveLearningRate: Double
  /// η for SGD and Adagrad.
  public var plainLearningRate: Double
  /// The global-norm clipping threshold (0: none).
  public var clip: Double
  /// The learning-rate schedule.
  public var schedule: ScheduleChoice
  /// The cosine schedule's warm-up steps.
  public var warmup: Int
  /// The step budget when no budget is given.
  public var defaultSteps: Int?
  /// The epoch budget when no budget is given.
  public var defaultEpochs: Int?
  /// The seed of the initialization, dropout and data order.
  public var seed: UInt64
  /// The LSTM forget-gate bias at initialization (LSTMs only; nil: PyTorch's initialization).
  public var forgetGateBias: Double?
  /// The AWD-LSTM regularizers (``Regularization``).
  public var regularization = Regularization()
  /// The average of the weights kept for evaluation (nil: none).
  public var averaging: WeightAveraging? = nil
  /// Training tokens between two validations (and checkpoints) when no interval is given, so that validation
  /// costs the same share of a run whatever B and T are.
  public var validationTokens = 512_000

  /// The steps between two validations for batches of `tokensPerStep` (B·T) tokens: ``validationTokens`` /
  /// (B·T), at least 1 (250 steps of 32 × 64).
  public func validationInterval(tokensPerStep: Int) -> Int {
    max(1, validationTokens / max(tokensPerStep, 1))
  }

  /// ``validationInterval(tokensPerStep:)`` for the default batch, B·T = ``batchSize`` · ``sequenceLength``.
  public var defaultValidationInterval: Int {
    validationInterval(tokensPerStep: batchSize * (sequenceLength ?? 1))
  }

  /// The base learning rate for `optimizer`.
  public func learningRate(for optimizer: OptimizerChoice) -> Double {
    optimizer.isAdaptive ? adaptiveLearningRate : plainLearningRate
  }

  /// The default optimizer at its default learning rate.
  public var defaultOptimizer: Optimizer { optimizer.optimizer(learningRate: learningRate(for: optimizer)) }

  /// Global-norm clipping at ``clip`` (none when it is 0).
  public var clipping: GradientClipping { .globalNormOrNone(clip) }

  /// `recur train`: a 2-layer LSTM, H = 512, E = 64, weight drop 0.2 on W_hh and locked dropout 0.1 on the
  /// embedding output, between the layers and before the head (the AWD-LSTM regularizers, tuned on a held-out
  /// part of a training text: BENCHMARKS.md), 32 streams of 64 characters, Adam 3e-3 with 100 warm-up steps and
  /// a cosine decay to 1/10, global-norm clipping at 5, 10 epochs unless told otherwise.
  public static let languageModel = RunDefaults(
    cell: .lstm, hiddenSize: 512, layers: 2, embeddingSize: 64, dropout: 0, batchSize: 32, sequenceLength: 64,
    optimizer: .adam, adaptiveLearningRate: 3e-3, plainLearningRate: 0.1, clip: 5, schedule: .cosine, warmup: 100,
    defaultSteps: nil, defaultEpochs: 10, seed: 1, forgetGateBias: 1,
    regularization: Regularization(inputDropout: 0.1, hiddenDropout: 0.1, outputDropout: 0.1, weightDrop: 0.2))

  /// `recur fit` and `recur task`: a 1-layer LSTM, H = 32, no dropout, 32 sequences per step, Adam 0.01 at a
  /// constant rate, global-norm clipping at 1, 1000 steps unless told otherwise.
  public static let sequenceModel = RunDefaults(
    cell: .lstm, hiddenSize: 32, layers: 1, embeddingSize: nil, dropout: 0, batchSize: 32, sequenceLength: nil,
    optimizer: .adam, adaptiveLearningRate: 0.01, plainLearningRate: 0.1, clip: 1, schedule: .constant, warmup: 100,
    defaultSteps: 1000, defaultEpochs: nil, seed: 1, forgetGateBias: 1)
}

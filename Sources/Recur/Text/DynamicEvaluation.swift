import Foundation

/// Dynamic evaluation: the language model keeps learning from the text it is evaluated on, one segment at a
/// time, after it has predicted that segment (Krause, Kahembwe, Murray & Renals, "Dynamic Evaluation of Neural
/// Sequence Models", ICML 2018).
///
/// The text c_1 … c_n is read as one stream from the zero state, as ``LanguageModelEvaluation`` defines, and cut
/// into segments s_1, s_2, … of ``segmentLength`` predictions. The weights start at the trained θ_g. Segment s_i
/// is predicted with θ_{i−1} (its losses are the figure), then the gradient ∇L(s_i) of its mean loss, by BPTT
/// within the segment from the state carried into it, moves the weights for the next segment:
///
///     θ_i = θ_{i−1} − a ⊙ ∇L(s_i) + d ⊙ (θ_g − θ_{i−1})
///
/// - ``Rule/sgd``: a = η and d = λ for every weight (the paper's SGD with a global decay prior).
/// - ``Rule/rms``: a = η / (√MS_g + ε) and d = min(λ · √MS_g / mean(√MS_g), 1), with MS_g each weight's mean
///   squared gradient on the training data (``GradientStatistics``) and the mean taken over every weight of
///   the model (the paper's RMS rule with a global prior, its best for character models).
///
/// Every character is still predicted from the characters before it alone, so the figure is a true
/// sequential cross-entropy (a compressor could reach it); it is not the static figure, and the two are
/// reported apart. The trained model is not changed.
public struct DynamicEvaluation: Sendable, Equatable, Codable {
  /// How the step for the next segment is scaled.
  public enum Rule: String, Sendable, Codable, CaseIterable {
    /// a = η, d = λ.
    case sgd
    /// a = η / (√MS_g + ε), d = min(λ · √MS_g / mean(√MS_g), 1): needs ``GradientStatistics``.
    case rms
  }

  /// The update rule.
  public var rule: Rule
  /// n, the predictions per segment (the BPTT length of each update).
  public var segmentLength: Int
  /// η, the step size.
  public var learningRate: Double
  /// λ, the pull back towards the trained weights θ_g.
  public var decay: Double
  /// ε, added to √MS_g (``Rule/rms`` only).
  public var epsilon: Double

  /// Settings of dynamic evaluation; ``defaults(for:)`` gives the tuned ones.
  public init(rule: Rule, segmentLength: Int, learningRate: Double, decay: Double, epsilon: Double = 1e-3) {
    self.rule = rule
    self.segmentLength = segmentLength
    self.learningRate = learningRate
    self.decay = decay
    self.epsilon = epsilon
  }

  /// The settings `recur eval --dynamic` uses for each rule, chosen on a held-out part of a training text
  /// (BENCHMARKS.md, "Dynamic evaluation").
  public static func defaults(for rule: Rule) -> DynamicEvaluation {
    switch rule {
    case .rms: DynamicEvaluation(rule: .rms, segmentLength: 64, learningRate: 7e-4, decay: 1e-3, epsilon: 1e-3)
    case .sgd: DynamicEvaluation(rule: .sgd, segmentLength: 64, learningRate: 0.3, decay: 0.01)
    }
  }

  /// Checks the settings.
  ///
  /// - Throws: ``DynamicEvaluationError`` for a segment length below 1, a negative or non-finite η, a λ outside
  ///   [0, 1], or a non-positive ε.
  public func validate() throws {
    guard segmentLength >= 1 else { throw DynamicEvaluationError("the segment length must be at least 1, got \(segmentLength)") }
    guard learningRate.isFinite, learningRate >= 0 else {
      throw DynamicEvaluationError("the learning rate must be finite and at least 0, got \(learningRate)")
    }
    guard decay >= 0, decay <= 1 else { throw DynamicEvaluationError("the decay must be in [0, 1], got \(decay)") }
    guard epsilon.isFinite, epsilon > 0 else { throw DynamicEvaluationError("epsilon must be positive, got \(epsilon)") }
  }
}

/// MS_g of ``DynamicEvaluation/Rule/rms``: for every weight, its mean squared gradient on the training data.
///
/// A training run with Adam or RMSprop already keeps it: Adam's second moment v (bias-corrected, v / (1 − β₂ᵗ))
/// and RMSprop's square average are exponential averages of the squared gradient over the last ~1/(1 − β₂)
/// steps, and resumable checkpoints hold them (``init(checkpoint:)``).
public struct GradientStatistics<Scalar: RecurScalar>: Sendable, Equatable {
  /// Parameter name → MS_g, of the parameter's shape.
  public var meanSquares: [String: Tensor<Scalar>]

  /// Statistics from given mean squares (each ≥ 0).
  public init(meanSquares: [String: Tensor<Scalar>]) {
    self.meanSquares = meanSquares
  }

  /// The statistics a checkpoint's optimizer state holds: Adam's bias-corrected second moment or RMSprop's
  /// square average; nil when the checkpoint has no such state (a weights-only file, or another optimizer).
  public init?(checkpoint: Checkpoint<Scalar>) {
    guard let state = checkpoint.optimizerState, state.step > 0, let method = checkpoint.options?.optimizer.method else {
      return nil
    }
    let buffer: String, correction: Double
    switch method {
    case .adam(_, let beta2, _, _):
      buffer = "exp_avg_sq"
      correction = 1 / (1 - Foundation.pow(beta2, Double(state.step)))
    case .rmsprop:
      buffer = "square_avg"
      correction = 1
    default:
      return nil
    }
    var meanSquares: [String: Tensor<Scalar>] = [:]
    for (name, slots) in state.buffers {
      guard var v = slots[buffer] else { return nil }
      let c = Scalar(correction)
      for i in 0..<v.count { v.scalars[i] *= c }
      meanSquares[name] = v
    }
    self.init(meanSquares: meanSquares)
  }
}

/// Settings or statistics that dynamic evaluation cannot use.
public struct DynamicEvaluationError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

extension RecurrentNetwork {
  /// The mean cross-entropy of a language model on a text under dynamic evaluation (see
  /// ``DynamicEvaluation``): one stream from the zero state, the weights adapted after each segment.
  ///
  /// - Parameters:
  ///   - tokens: c_1 … c_n, n ≥ 2, ids below V.
  ///   - settings: the rule, n, η, λ and ε.
  ///   - statistics: MS_g for every parameter (``DynamicEvaluation/Rule/rms``; ignored by ``DynamicEvaluation/Rule/sgd``).
  ///   - workspace: reusable buffers.
  ///   - onSegment: called after each segment with the predictions made so far, their loss sum in nats, and
  ///     the predictions in all (for progress displays and per-segment figures).
  /// - Returns: the mean over the n − 1 predictions, each made before the weights learnt from it.
  /// - Throws: ``DynamicEvaluationError`` for bad settings or statistics that do not cover every parameter,
  ///   ``ModelError`` when the network is not a language model, ``TextError`` for a text under 2 tokens.
  public func dynamicallyEvaluateLanguageModel<Tokens: RandomAccessCollection<Int32>>(
    on tokens: Tokens, settings: DynamicEvaluation, statistics: GradientStatistics<Scalar>? = nil,
    workspace: NetworkWorkspace<Scalar>? = nil, onSegment: ((_ done: Int, _ lossSum: Double, _ total: Int) -> Void)? = nil
  ) throws -> LanguageModelEvaluation where Tokens.Index == Int {
    try checkIsLanguageModel()
    try settings.validate()
    guard tokens.count >= 2 else {
      throw TextError.textTooShort(tokens: tokens.count, needed: 2, purpose: "evaluation (one prediction)")
    }
    let step = try DynamicStep(settings: settings, statistics: statistics, trained: self)
    let ws = workspace ?? NetworkWorkspace()
    let total = tokens.count - 1, n = settings.segmentLength
    var adapted = self
    var gradient = zeros()
    var state = zeroState(batch: 1)
    var noDropout: SeededGenerator? = nil
    var sum = 0.0, start = 0
    while start < total {
      let T = min(n, total - start)
      let first = tokens.startIndex + start
      let x = Array(tokens[first..<(first + T)]), y = Array(tokens[(first + 1)...(first + T)])
      let batch = try SequenceBatch<Scalar>(steps: T, batchSize: 1, inputs: .tokens(x), targets: .classes(y))
      gradient.zeroAll()
      // The segment's losses come from θ_{i−1}: the forward pass runs before the weights learn from it.
      let result = try adapted.accumulateGradient(
        for: batch, loss: .crossEntropy, reduction: .meanOverSteps, initialState: state, into: &gradient,
        workspace: ws, dropoutGenerator: &noDropout)
      sum += result.elementLossSum
      state = result.finalState
      start += T
      step.apply(to: &adapted, gradient: gradient)
      onSegment?(start, sum, total)
    }
    return LanguageModelEvaluation(natsPerToken: sum / Double(total), predictions: total)
  }
}

/// The per-weight factors a and d of ``DynamicEvaluation``'s update and the trained weights θ_g, laid out in
/// the parameters' visiting order, so that each update is one pass over flat arrays.
struct DynamicStep<Scalar: RecurScalar> {
  /// θ_g, a and d, one array per parameter.
  var trained: [[Scalar]] = [], stepScale: [[Scalar]] = [], decayRate: [[Scalar]] = []

  init<Network: Parameterized<Scalar>>(
    settings: DynamicEvaluation, statistics: GradientStatistics<Scalar>?, trained network: Network
  ) throws {
    let parameters = network.namedParameters
    trained = parameters.map(\.tensor.scalars)
    switch settings.rule {
    case .sgd:
      stepScale = parameters.map { [Scalar](repeating: Scalar(settings.learningRate), count: $0.tensor.count) }
      decayRate = parameters.map { [Scalar](repeating: Scalar(settings.decay), count: $0.tensor.count) }
    case .rms:
      guard let statistics else {
        throw DynamicEvaluationError("the rms rule needs the training gradients' mean squares (MS_g); use the sgd rule without them")
      }
      var roots: [[Double]] = []
      var rootSum = 0.0, count = 0
      for (name, tensor) in parameters {
        guard let ms = statistics.meanSquares[name] else {
          throw DynamicEvaluationError("the gradient statistics have no mean squares for '\(name)'")
        }
        guard ms.shape == tensor.shape else {
          throw DynamicEvaluationError("the mean squares of '\(name)' are \(ms.shape), the parameter \(tensor.shape)")
        }
        let r = ms.scalars.map { Double($0).squareRoot() }
        guard r.allSatisfy(\.isFinite) else {
          throw DynamicEvaluationError("the mean squares of '\(name)' are negative or not finite")
        }
        rootSum += r.reduce(0, +)
        count += r.count
        roots.append(r)
      }
      let meanRoot = rootSum / Double(max(count, 1))
      guard meanRoot > 0 else { throw DynamicEvaluationError("the gradient statistics are all zero") }
      let η = settings.learningRate, λ = settings.decay, ε = settings.epsilon
      stepScale = roots.map { $0.map { Scalar(η / ($0 + ε)) } }
      decayRate = roots.map { $0.map { Scalar(min(λ * $0 / meanRoot, 1)) } }
    }
  }

  /// θ ← θ − a ⊙ g + d ⊙ (θ_g − θ), for every parameter.
  @_specialize(where Scalar == Float, Network == RecurrentNetwork<Float>)
  func apply<Network: Parameterized<Scalar>>(to network: inout Network, gradient: Network) {
    var index = 0
    var gradients: [Tensor<Scalar>] = []
    gradients.reserveCapacity(trained.count)
    gradient.forEachParameter { gradients.append($1) }
    network.updateEachParameter { _, parameter in
      let i = index
      index += 1
      trained[i].withUnsafeBufferPointer { θg in
        stepScale[i].withUnsafeBufferPointer { a in
          decayRate[i].withUnsafeBufferPointer { d in
            gradients[i].withPointer { g in
              parameter.withMutablePointer { θ in
                for j in 0..<θg.count { θ[j] += d[j] * (θg[j] - θ[j]) - a[j] * g[j] }
              }
            }
          }
        }
      }
    }
  }
}

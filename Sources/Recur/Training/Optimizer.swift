import Foundation

/// The state an optimizer keeps between steps: the number of steps taken and, for each parameter, its named
/// buffers (PyTorch's names: `momentum_buffer`, `sum`, `square_avg`, `grad_avg`, `exp_avg`, `exp_avg_sq`).
///
/// A plain value: saving it (``namedTensors``) and restoring it (``init(step:namedTensors:)``) resumes the
/// optimizer exactly.
public struct OptimizerState<Scalar: RecurScalar>: Sendable, Equatable {
  /// The number of updates taken so far (PyTorch's `step`, the t of Adam's bias corrections).
  public var step: Int
  /// parameter name → buffer name → buffer, each buffer of the parameter's shape.
  public var buffers: [String: [String: Tensor<Scalar>]]

  /// The state before the first step: no buffers.
  public init() {
    step = 0
    buffers = [:]
  }

  /// A state from saved tensors named `"<buffer>.<parameter>"` (for example `exp_avg.rnn.weight_ih_l0`).
  ///
  /// - Throws: ``OptimizerError`` when a name does not start with a known buffer name.
  public init(step: Int, namedTensors: [(name: String, tensor: Tensor<Scalar>)]) throws {
    self.step = step
    buffers = [:]
    for (name, tensor) in namedTensors {
      guard let dot = name.firstIndex(of: "."), Self.bufferNames.contains(String(name[..<dot])) else {
        throw OptimizerError("optimizer state tensor '\(name)' does not start with a known buffer name")
      }
      buffers[String(name[name.index(after: dot)...]), default: [:]][String(name[..<dot])] = tensor
    }
  }

  /// Every buffer name an optimizer here uses, in a fixed order.
  public static var bufferNames: [String] { ["momentum_buffer", "sum", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq"] }

  /// The buffers as `"<buffer>.<parameter>"` tensors, sorted by name (the order of checkpoints).
  public var namedTensors: [(name: String, tensor: Tensor<Scalar>)] {
    var result: [(name: String, tensor: Tensor<Scalar>)] = []
    for (parameter, slots) in buffers {
      for (slot, tensor) in slots { result.append(("\(slot).\(parameter)", tensor)) }
    }
    return result.sorted { $0.name < $1.name }
  }
}

/// A first-order optimizer with PyTorch's semantics (`torch.optim`), written once as an update of one
/// (parameter, gradient, state) triple and applied over a visit of every parameter.
///
/// Weight decay λ is L2 regularization added to the gradient (g ← g + λθ) for every method except AdamW,
/// where it is decoupled (θ ← θ − ηλθ before the Adam step).
public struct Optimizer: Sendable, Codable, Equatable {
  /// The update rule and its hyperparameters.
  public enum Method: Sendable, Codable, Equatable {
    /// Stochastic gradient descent with optional momentum μ and dampening τ: b ← μb + (1 − τ)g (b = g on the
    /// first step), then θ ← θ − η(g + μb) with Nesterov momentum or θ ← θ − ηb without.
    /// Reference: `torch.optim.SGD`; Sutskever, Martens, Dahl & Hinton, "On the importance of initialization
    /// and momentum in deep learning", ICML 2013.
    case sgd(momentum: Double, dampening: Double, nesterov: Bool)
    /// Adagrad: Σ ← Σ + g², θ ← θ − η_t g / (√Σ + ε), with η_t = η / (1 + (t − 1)·decay). With
    /// `epsilonInsideSquareRoot` the denominator is √(Σ + ε), as Karpathy's min-char-rnn.py writes it.
    /// Reference: Duchi, Hazan & Singer, "Adaptive subgradient methods for online learning and stochastic
    /// optimization", JMLR 2011; `torch.optim.Adagrad`.
    case adagrad(learningRateDecay: Double, initialAccumulator: Double, epsilon: Double, epsilonInsideSquareRoot: Bool)
    /// RMSprop: v ← αv + (1 − α)g², θ ← θ − η g / (√v + ε) (centered: √(v − ḡ²) with ḡ ← αḡ + (1 − α)g; with
    /// momentum μ: b ← μb + g / (…), θ ← θ − ηb). char-rnn's `optim.rmsprop` is this rule with α = 0.95.
    /// Reference: Tieleman & Hinton, COURSERA Neural Networks lecture 6.5, 2012; `torch.optim.RMSprop`.
    case rmsprop(alpha: Double, epsilon: Double, momentum: Double, centered: Bool)
    /// Adam: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − η m̂ / (√v̂ + ε) with the bias-corrected
    /// m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). With `decoupledWeightDecay` it is AdamW.
    /// Reference: Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015; Loshchilov & Hutter,
    /// "Decoupled weight decay regularization", ICLR 2019; `torch.optim.Adam`, `torch.optim.AdamW`.
    case adam(beta1: Double, beta2: Double, epsilon: Double, decoupledWeightDecay: Bool)
  }

  /// The rule.
  public var method: Method
  /// η, the base learning rate (a schedule scales it per step).
  public var learningRate: Double
  /// λ, the weight decay.
  public var weightDecay: Double

  /// An optimizer with the given rule.
  public init(method: Method, learningRate: Double, weightDecay: Double = 0) {
    self.method = method
    self.learningRate = learningRate
    self.weightDecay = weightDecay
  }

  /// `torch.optim.SGD` (defaults: no momentum).
  public static func sgd(
    learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0
  ) -> Optimizer {
    Optimizer(
      method: .sgd(momentum: momentum, dampening: dampening, nesterov: nesterov), learningRate: learningRate,
      weightDecay: weightDecay)
  }

  /// `torch.optim.Adagrad` (defaults: learning rate 0.01, ε = 1e-10).
  public static func adagrad(
    learningRate: Double = 0.01, learningRateDecay: Double = 0, initialAccumulator: Double = 0,
    epsilon: Double = 1e-10, weightDecay: Double = 0
  ) -> Optimizer {
    Optimizer(
      method: .adagrad(
        learningRateDecay: learningRateDecay, initialAccumulator: initialAccumulator, epsilon: epsilon,
        epsilonInsideSquareRoot: false), learningRate: learningRate, weightDecay: weightDecay)
  }

  /// min-char-rnn.py's Adagrad: learning rate 0.1, θ ← θ − η g / √(Σ + 1e-8).
  public static func minCharRNNAdagrad(learningRate: Double = 0.1) -> Optimizer {
    Optimizer(
      method: .adagrad(learningRateDecay: 0, initialAccumulator: 0, epsilon: 1e-8, epsilonInsideSquareRoot: true),
      learningRate: learningRate)
  }

  /// `torch.optim.RMSprop` (defaults: learning rate 0.01, α = 0.99, ε = 1e-8). char-rnn uses learning rate
  /// 2e-3 and α = 0.95.
  public static func rmsprop(
    learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8, momentum: Double = 0,
    centered: Bool = false, weightDecay: Double = 0
  ) -> Optimizer {
    Optimizer(
      method: .rmsprop(alpha: alpha, epsilon: epsilon, momentum: momentum, centered: centered),
      learningRate: learningRate, weightDecay: weightDecay)
  }

  /// `torch.optim.Adam` (defaults: learning rate 1e-3, β = (0.9, 0.999), ε = 1e-8, no weight decay).
  public static func adam(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0
  ) -> Optimizer {
    Optimizer(
      method: .adam(beta1: beta1, beta2: beta2, epsilon: epsilon, decoupledWeightDecay: false),
      learningRate: learningRate, weightDecay: weightDecay)
  }

  /// `torch.optim.AdamW` (defaults: learning rate 1e-3, β = (0.9, 0.999), ε = 1e-8, weight decay 0.01).
  public static func adamW(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0.01
  ) -> Optimizer {
    Optimizer(
      method: .adam(beta1: beta1, beta2: beta2, epsilon: epsilon, decoupledWeightDecay: true),
      learningRate: learningRate, weightDecay: weightDecay)
  }

  /// Checks the hyperparameters; throws an ``OptimizerError`` naming the first that is out of range.
  public func validate() throws {
    func check(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw OptimizerError(message()) } }
    try check(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and ≥ 0, got \(learningRate)")
    try check(weightDecay.isFinite && weightDecay >= 0, "weight decay must be finite and ≥ 0, got \(weightDecay)")
    switch method {
    case .sgd(let momentum, let dampening, let nesterov):
      try check(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got \(momentum)")
      try check(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and no dampening")
    case .adagrad(let decay, let initial, let epsilon, _):
      try check(decay >= 0 && initial >= 0 && epsilon >= 0, "Adagrad's decay, accumulator and ε must be ≥ 0")
    case .rmsprop(let alpha, let epsilon, let momentum, _):
      try check(alpha >= 0 && alpha < 1, "RMSprop's α must be in [0, 1), got \(alpha)")
      try check(epsilon >= 0 && momentum >= 0, "RMSprop's ε and momentum must be ≥ 0")
    case .adam(let beta1, let beta2, let epsilon, _):
      try check(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam's β₁ and β₂ must be in [0, 1)")
      try check(epsilon >= 0, "Adam's ε must be ≥ 0, got \(epsilon)")
    }
  }

  /// One optimizer step: updates every parameter from its gradient and its state, and counts the step.
  ///
  /// - Parameters:
  ///   - parameters: θ, updated in place.
  ///   - gradient: dJ/dθ, a value of the same type (already clipped if clipping is wanted).
  ///   - state: the optimizer state, updated.
  ///   - learningRate: η for this step (from a schedule); the base ``learningRate`` when nil.
  @_specialize(where P == RecurrentNetwork<Float>)
  public func update<P: Parameterized>(
    _ parameters: inout P, gradient: P, state: inout OptimizerState<P.Scalar>, learningRate: Double? = nil
  ) {
    state.step += 1
    let step = state.step
    let lr = learningRate ?? self.learningRate
    let gradients = gradient.namedParameters
    var index = 0
    parameters.updateEachParameter { name, parameter in
      precondition(gradients[index].name == name, "gradient and parameters visit different names")
      var slots = state.buffers.removeValue(forKey: name) ?? [:]
      update(&parameter, gradient: gradients[index].tensor, slots: &slots, learningRate: lr, step: step)
      if !slots.isEmpty { state.buffers[name] = slots }
      index += 1
    }
  }

  /// The update of one parameter θ from its gradient g and its buffers, at step t (1-based).
  @_specialize(where Scalar == Float)
  func update<Scalar: RecurScalar>(
    _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
    learningRate: Double, step: Int
  ) {
    precondition(parameter.shape == gradient.shape, "gradient shape \(gradient.shape) ≠ parameter shape \(parameter.shape)")
    let n = parameter.count
    let wd = Scalar(weightDecay)
    /// Takes a buffer out of the slots (or a new one filled with `initial`) so it can be updated in place.
    func take(_ name: String, initial: Scalar = 0) -> Tensor<Scalar> {
      slots.removeValue(forKey: name) ?? Tensor(shape: parameter.shape, repeating: initial)
    }
    if case .adam(let beta1, let beta2, let epsilon, let decoupled) = method {
      var m = take("exp_avg"), v = take("exp_avg_sq")
      let t = Double(step)
      parameter.withMutablePointer { p in
        gradient.withPointer { g in
          m.withMutablePointer { m in
            v.withMutablePointer { v in
              Scalar.adam(
                count: n, param: p, grad: g, m: m, v: v, lr: Scalar(learningRate), beta1: Scalar(beta1),
                beta2: Scalar(beta2), eps: Scalar(epsilon), weightDecay: wd, decoupled: decoupled,
                biasCorrection1: Scalar(1 - Foundation.pow(beta1, t)), biasCorrection2: Scalar(1 - Foundation.pow(beta2, t)))
            }
          }
        }
      }
      slots["exp_avg"] = m
      slots["exp_avg_sq"] = v
      return
    }
    // g ← g + λθ (L2 weight decay), into a scratch copy so the caller's gradient is untouched.
    var g = gradient
    if weightDecay != 0 {
      for i in 0..<n { g.scalars[i] += wd * parameter.scalars[i] }
    }
    switch method {
    case .sgd(let momentum, let dampening, let nesterov):
      if momentum != 0 {
        let mu = Scalar(momentum)
        var buffer: Tensor<Scalar>
        if let old = slots.removeValue(forKey: "momentum_buffer") {
          // b ← μb + (1 − τ)g
          buffer = old
          let keep = Scalar(1 - dampening)
          for i in 0..<n { buffer.scalars[i] = mu * buffer.scalars[i] + keep * g.scalars[i] }
        } else {
          buffer = g  // b ← g on the first step
        }
        if nesterov {
          for i in 0..<n { g.scalars[i] += mu * buffer.scalars[i] }
        } else {
          g = buffer
        }
        slots["momentum_buffer"] = buffer
      }
      let lr = Scalar(learningRate)
      for i in 0..<n { parameter.scalars[i] -= lr * g.scalars[i] }
    case .adagrad(let decay, let initial, let epsilon, let inside):
      var sum = take("sum", initial: Scalar(initial))
      let lr = Scalar(learningRate / (1 + Double(step - 1) * decay))
      let eps = Scalar(epsilon)
      for i in 0..<n {
        let gi = g.scalars[i]
        sum.scalars[i] += gi * gi
        let denom = inside ? (sum.scalars[i] + eps).squareRoot() : sum.scalars[i].squareRoot() + eps
        parameter.scalars[i] -= lr * gi / denom
      }
      slots["sum"] = sum
    case .rmsprop(let alpha, let epsilon, let momentum, let centered):
      var square = take("square_avg")
      var average = centered ? take("grad_avg") : Tensor<Scalar>(shape: [0])
      var buffer = momentum > 0 ? take("momentum_buffer") : Tensor<Scalar>(shape: [0])
      let a = Scalar(alpha), eps = Scalar(epsilon), mu = Scalar(momentum), lr = Scalar(learningRate)
      for i in 0..<n {
        let gi = g.scalars[i]
        // v ← αv + (1 − α)g²
        square.scalars[i] = a * square.scalars[i] + (1 - a) * gi * gi
        var denom: Scalar
        if centered {
          average.scalars[i] += (1 - a) * (gi - average.scalars[i])  // ḡ ← ḡ + (1 − α)(g − ḡ) (torch's lerp)
          denom = (square.scalars[i] - average.scalars[i] * average.scalars[i]).squareRoot()
        } else {
          denom = square.scalars[i].squareRoot()
        }
        denom += eps
        if momentum > 0 {
          buffer.scalars[i] = mu * buffer.scalars[i] + gi / denom
          parameter.scalars[i] -= lr * buffer.scalars[i]
        } else {
          parameter.scalars[i] -= lr * gi / denom
        }
      }
      slots["square_avg"] = square
      if centered { slots["grad_avg"] = average }
      if momentum > 0 { slots["momentum_buffer"] = buffer }
    case .adam:
      preconditionFailure("handled above")
    }
  }
}

/// A hyperparameter or a saved state that an optimizer cannot use. Its description is one line naming the
/// problem.
public struct OptimizerError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

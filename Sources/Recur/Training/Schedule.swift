import Foundation

/// A learning-rate schedule: η_t as a pure function of the step number t (the number of updates already
/// taken, 0 for the first), so a resumed run continues on exactly the same curve.
public enum LearningRateSchedule: Sendable, Codable, Equatable {
  /// η_t = η.
  case constant
  /// η_t = η · factor^k, where k counts the decay points `start`, `start + every`, `start + 2·every`, … that
  /// are ≤ t. char-rnn multiplies by 0.97 after every epoch from epoch 10 on: see
  /// ``stepDecay(factor:everyEpochs:afterEpoch:stepsPerEpoch:)``.
  case stepDecay(factor: Double, every: Int, start: Int)
  /// Linear warm-up from η/warmup to η over the first `warmup` steps, then a half cosine from η down to
  /// `minimum` at step `total`, and `minimum` after it (Loshchilov & Hutter, "SGDR", ICLR 2017; the warm-up
  /// of Goyal et al., 2017).
  case cosine(warmup: Int, total: Int, minimum: Double)

  /// char-rnn's decay: multiply by `factor` at the end of each epoch from epoch `afterEpoch` on
  /// (char-rnn: `learning_rate_decay` 0.97, `learning_rate_decay_after` 10).
  public static func stepDecay(factor: Double, everyEpochs: Int = 1, afterEpoch: Int, stepsPerEpoch: Int) -> Self {
    .stepDecay(factor: factor, every: max(1, everyEpochs * stepsPerEpoch), start: max(1, afterEpoch * stepsPerEpoch))
  }

  /// η_t for a base rate η.
  ///
  /// - Parameters:
  ///   - step: t, the number of updates already taken (0 for the first update).
  ///   - base: η.
  public func learningRate(step: Int, base: Double) -> Double {
    switch self {
    case .constant:
      return base
    case .stepDecay(let factor, let every, let start):
      guard step >= start else { return base }
      let decays = (step - start) / max(every, 1) + 1
      return base * Foundation.pow(factor, Double(decays))
    case .cosine(let warmup, let total, let minimum):
      if step < warmup { return base * Double(step + 1) / Double(warmup) }
      let span = max(total - warmup, 1)
      let progress = min(Double(step - warmup) / Double(span), 1)
      return minimum + 0.5 * (base - minimum) * (1 + Foundation.cos(Double.pi * progress))
    }
  }

  /// Checks the schedule's numbers; throws a ``ScheduleError`` naming the first that is out of range.
  public func validate() throws {
    switch self {
    case .constant: break
    case .stepDecay(let factor, let every, let start):
      guard factor.isFinite, factor > 0, every >= 1, start >= 0 else {
        throw ScheduleError("step decay needs factor > 0, every ≥ 1 and start ≥ 0")
      }
    case .cosine(let warmup, let total, let minimum):
      guard warmup >= 0, total >= warmup, minimum.isFinite, minimum >= 0 else {
        throw ScheduleError("cosine schedule needs 0 ≤ warmup ≤ total and a minimum ≥ 0")
      }
    }
  }
}

/// A learning-rate schedule whose numbers are out of range. Its description is one line naming the problem.
public struct ScheduleError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

/// How gradients are clipped before the optimizer step.
public enum GradientClipping: Sendable, Codable, Equatable {
  /// No clipping.
  case none
  /// Rescale all gradients together when their global norm exceeds `maxNorm`, exactly as
  /// `torch.nn.utils.clip_grad_norm_`: total = ‖(‖g₁‖, …, ‖gₙ‖)‖, coefficient = maxNorm / (total + 1e-6),
  /// applied only when it is below 1 (Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent
  /// neural networks", ICML 2013).
  case globalNorm(Double)
  /// Clamp every gradient element to [−maxValue, maxValue] (`torch.nn.utils.clip_grad_value_`; char-rnn's
  /// `grad_clip`, min-char-rnn's `np.clip(dparam, -5, 5)`).
  case value(Double)

  /// Global-norm clipping at `maxNorm`, or none when it is 0 (the `--clip` convention).
  public static func globalNormOrNone(_ maxNorm: Double) -> GradientClipping {
    maxNorm > 0 ? .globalNorm(maxNorm) : .none
  }
}

extension Parameterized {
  /// Rescales all tensors together so that their global norm is at most `maxNorm`, as
  /// `torch.nn.utils.clip_grad_norm_`.
  ///
  /// - Returns: the global norm before clipping (infinite or NaN when some element is).
  @discardableResult
  @_specialize(where Self == RecurrentNetwork<Float>)
  public mutating func clipGlobalNorm(_ maxNorm: Double) -> Double {
    let total = globalNorm
    let coefficient = maxNorm / (total + 1e-6)
    if coefficient < 1 {
      let c = Scalar(coefficient)
      updateEachParameter { _, tensor in
        let n = tensor.count
        tensor.withMutablePointer { p in for i in 0..<n { p[i] *= c } }
      }
    }
    return total
  }

  /// Clamps every element to [−maxValue, maxValue], as `torch.nn.utils.clip_grad_value_`.
  public mutating func clipValues(_ maxValue: Double) {
    let high = Scalar(maxValue), low = -high
    updateEachParameter { _, tensor in
      let n = tensor.count
      tensor.withMutablePointer { p in for i in 0..<n { p[i] = Swift.min(Swift.max(p[i], low), high) } }
    }
  }

  /// Applies `clipping` and returns the global norm before it.
  @discardableResult
  @_specialize(where Self == RecurrentNetwork<Float>)
  public mutating func clip(_ clipping: GradientClipping) -> Double {
    switch clipping {
    case .none: return globalNorm
    case .globalNorm(let maxNorm): return clipGlobalNorm(maxNorm)
    case .value(let maxValue):
      let norm = globalNorm
      clipValues(maxValue)
      return norm
    }
  }
}

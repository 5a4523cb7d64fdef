import Foundation

/// An average of the weights kept beside them for evaluation: θ̄, an exponential moving average or the uniform
/// (averaged-SGD, SWA) average of the iterates θ_t, with the arithmetic of PyTorch's
/// `torch.optim.swa_utils.AveragedModel`.
///
/// θ_t are the weights after optimizer step t (t = 1, 2, …, counted as ``Trainer`` counts them). The average
/// takes in θ_t for every t > `start`, so after step t it holds n = t − `start` iterates (n = 0: none yet):
/// - the first of them is copied, θ̄ ← θ_{start+1} (AveragedModel's first `update_parameters`);
/// - ``exponential(decay:start:)``: then θ̄ ← β θ̄ + (1 − β) θ_t, as `get_ema_multi_avg_fn(β)`;
/// - ``uniform(start:)``: then θ̄ ← θ̄ + (θ_t − θ̄)/(n + 1) with n the iterates averaged before θ_t, so θ̄ is the
///   mean of θ_{start+1} … θ_t, as AveragedModel's default `get_swa_multi_avg_fn()`.
///
/// Both updates are PyTorch's `lerp(θ̄, θ_t, w)` with w = 1 − β or w = 1/(n + 1), computed in the network's
/// element type as PyTorch's CPU kernel does: θ̄ + w (θ_t − θ̄) for w < ½, θ_t + (w − 1)(θ_t − θ̄) otherwise,
/// each product and sum rounded once (a fused multiply-add).
public enum WeightAveraging: Sendable, Codable, Equatable {
  /// θ̄ ← β θ̄ + (1 − β) θ_t after every step t > `start` (β = `decay`, the first such step copies θ_t).
  case exponential(decay: Double, start: Int)
  /// θ̄ = the mean of θ_t over the steps t > `start` (the averaged-SGD iterate).
  case uniform(start: Int)

  /// The number of optimizer steps before the average takes in its first iterate.
  public var start: Int {
    switch self {
    case .exponential(_, let start), .uniform(let start): start
    }
  }

  /// Checks the settings: β in (0, 1) and `start` ≥ 0.
  ///
  /// - Throws: ``WeightAveragingError`` naming the value out of range.
  public func validate() throws {
    if case .exponential(let decay, _) = self, !(decay > 0 && decay < 1) {
      throw WeightAveragingError("the averaging decay must lie strictly between 0 and 1, got \(decay)")
    }
    guard start >= 0 else { throw WeightAveragingError("the averaging start step must be 0 or more, got \(start)") }
  }

  /// The number n of iterates averaged after optimizer step t: max(t − `start`, 0).
  public func averagedCount(afterStep step: Int) -> Int { max(step - start, 0) }

  /// One line for metadata and model cards, for example
  /// "exponential moving average, decay 0.999, from step 0, 3248 steps averaged".
  ///
  /// - Parameter count: n, the number of iterates in the average.
  public func summary(count: Int) -> String {
    switch self {
    case .exponential(let decay, let start):
      "exponential moving average, decay \(decay), from step \(start), \(count) steps averaged"
    case .uniform(let start):
      "uniform average (averaged SGD), from step \(start), \(count) steps averaged"
    }
  }

  /// Takes θ_t into the average θ̄ in place, given n, the number of iterates θ̄ already holds (n = 0: θ̄ ← θ_t).
  ///
  /// - Parameters:
  ///   - average: θ̄, updated in place; it must have the parameters of `parameters`, same names and shapes.
  ///   - parameters: θ_t, the weights after the optimizer step.
  ///   - count: n before this update (the caller adds 1 afterwards).
  @_specialize(where P == RecurrentNetwork<Float>)
  public func update<P: Parameterized>(_ average: inout P, toward parameters: P, count: Int) {
    let current = parameters.namedParameters
    // w of lerp(θ̄, θ, w), rounded to the element type as PyTorch rounds its Python float weight.
    let weight: P.Scalar
    switch self {
    case .exponential(let decay, _): weight = P.Scalar(1 - decay)
    case .uniform: weight = P.Scalar(1 / Double(count + 1))
    }
    var index = 0
    average.updateEachParameter { name, averaged in
      let theta = current[index].tensor
      precondition(current[index].name == name && theta.shape == averaged.shape, "the average and the weights differ in '\(name)'")
      index += 1
      let n = averaged.count
      averaged.withMutablePointer { a in
        theta.withPointer { p in
          if count == 0 {
            a.update(from: p, count: n)  // θ̄ ← θ (the first iterate)
          } else {
            P.Scalar.lerp(count: n, average: a, value: p, weight: weight)  // θ̄ ← θ̄ + w (θ − θ̄)
          }
        }
      }
    }
  }
}

/// A ``WeightAveraging`` setting out of range. Its description is one line naming the problem.
public struct WeightAveragingError: MessageError {
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

/// The average θ̄ a run keeps beside its weights: the averaging rule, θ̄ and n, the number of iterates it holds.
public struct WeightAverage<Scalar: RecurScalar>: Sendable {
  /// How θ̄ is formed.
  public var averaging: WeightAveraging
  /// θ̄ (meaningful once ``count`` ≥ 1; before that it holds zeros).
  public var network: RecurrentNetwork<Scalar>
  /// n, the number of iterates θ_t in θ̄.
  public var count: Int

  /// An average of the given rule over the given network (n = 0 with a zero θ̄, or a restored θ̄ and n).
  public init(averaging: WeightAveraging, network: RecurrentNetwork<Scalar>, count: Int = 0) {
    self.averaging = averaging
    self.network = count == 0 ? network.zeros() : network
    self.count = count
  }

  /// Takes θ_t, the weights after optimizer step t, into θ̄ when t > start; otherwise leaves θ̄ as it is.
  public mutating func update(with parameters: RecurrentNetwork<Scalar>, afterStep step: Int) {
    guard step > averaging.start else { return }
    averaging.update(&network, toward: parameters, count: count)
    count += 1
  }

  /// One line naming the rule and n (see ``WeightAveraging/summary(count:)``).
  public var summary: String { averaging.summary(count: count) }
}

/// Which weights of a checkpoint a trained model is used with.
public enum ModelWeights: String, Sendable, CaseIterable {
  /// θ̄, the average the run kept, when the checkpoint holds one with n ≥ 1 (θ otherwise): the default.
  case averaged
  /// θ, the weights the optimizer updated.
  case raw
}

extension Checkpoint {
  /// The network of the chosen weights: θ̄ for ``ModelWeights/averaged`` when the checkpoint holds an average
  /// of at least one iterate, θ otherwise.
  public func network(weights: ModelWeights) -> RecurrentNetwork<Scalar> {
    weights == .averaged ? evaluationNetwork : network
  }

  /// One line naming the weights ``network(weights:)`` gives, for metadata and model cards: the average's
  /// ``WeightAverage/summary`` or "raw weights (…)"; nil when the checkpoint holds no average.
  public func weightsDescription(_ weights: ModelWeights) -> String? {
    guard let average else { return nil }
    if weights == .averaged, average.count > 0 { return average.summary }
    return "raw weights (the checkpoint's \(average.summary) is not used)"
  }

  /// The model alone with the chosen weights, for export: no optimizer state, position or average, and, when
  /// the checkpoint held an average, metadata ``weightsMetadataKey`` saying which weights these are.
  public func model(weights: ModelWeights) -> Checkpoint {
    var metadata = metadata
    if let line = weightsDescription(weights) { metadata[Self.weightsMetadataKey] = line }
    return Checkpoint(network: network(weights: weights), options: options, metadata: metadata)
  }

  /// The metadata key of an exported model that says which weights it holds (see ``model(weights:)``).
  public static var weightsMetadataKey: String { "weights" }
}

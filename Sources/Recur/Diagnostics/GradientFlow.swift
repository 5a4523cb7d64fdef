import Foundation

/// ‖∂L_n/∂s_t‖ for every step t of a sequence when only the last output carries a loss: the chapter's
/// section "Vanishing gradients and gating mechanisms" measured. For t < n the value is the norm of the
/// future-loss gradient δ^{s_t}, the product (∂s_{t+1}/∂s_t) ⋯ (∂s_n/∂s_{n-1}) applied to ∂L_n/∂s_n.
public struct GradientFlowProfile: Sendable, Equatable {
  /// The name shown in tables and legends (the cell's name unless given).
  public var name: String
  /// The cell of the network measured.
  public var cell: CellKind
  /// ‖∂L_n/∂s_t‖ for t = 1 … n, per layer (bottom first); for the LSTM s_t is (h_t, c_t) together.
  public var layerNorms: [[Double]]
  /// The loss L_n at the last step (mean over the sequences).
  public var loss: Double

  /// The top layer's norms, t = 1 … n.
  public var norms: [Double] { layerNorms[layerNorms.count - 1] }

  /// The top layer's norms divided by the norm at the last step n, so every profile starts from 1 at t = n.
  public var relativeNorms: [Double] {
    let last = norms.last ?? 1
    return norms.map { last > 0 ? $0 / last : .nan }
  }
}

/// Measurements of how gradients flow back through time.
public enum GradientFlow {
  /// Measures the gradient profile of a network on a batch, with a loss only at each sequence's last step.
  ///
  /// - Parameters:
  ///   - network: any network (trained or freshly initialized).
  ///   - batch: B input sequences of n steps (its targets are ignored).
  ///   - targets: y_n per sequence.
  ///   - loss: the loss at the last step.
  ///   - name: the label of the profile (defaults to the cell's name).
  public static func profile<Scalar: RecurScalar>(
    of network: RecurrentNetwork<Scalar>, on batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>,
    loss: ElementLoss, name: String? = nil
  ) throws -> GradientFlowProfile {
    var none: RecurrentNetwork<Scalar>? = nil
    let result = try network.finalStepLoss(
      for: batch, targets: targets, loss: loss, gradient: &none, recordFutureLossGradients: true)
    return GradientFlowProfile(
      name: name ?? network.configuration.cell.description, cell: network.configuration.cell,
      layerNorms: result.futureLossGradientNorms ?? [], loss: result.loss)
  }

  /// The chapter's thought experiment for several cells side by side: freshly initialized networks (one per
  /// cell, same seed) read the same random sequences of n steps, and a squared error on the single output at
  /// the last step is propagated back.
  ///
  /// - Parameters:
  ///   - cells: the cells to compare (the chapter's RNN, the gated RNN, the LSTM and the GRU by default).
  ///   - length: n, the number of steps.
  ///   - hiddenSize: H (m in the chapter).
  ///   - inputSize: I (ℓ), the features of x_t, drawn from N(0, 1).
  ///   - batchSize: B, the sequences averaged over.
  ///   - seed: fixes the inputs, targets and every initialization.
  public static func compareUntrained(
    cells: [CellKind] = [.rnn(.tanh), .gated(.tanh), .lstm, .gru], length: Int, hiddenSize: Int,
    inputSize: Int = 2, batchSize: Int = 16, seed: UInt64
  ) throws -> [GradientFlowProfile] {
    guard length >= 1 else { throw ModelError("the sequence length must be at least 1, got \(length)") }
    guard batchSize >= 1 else { throw ModelError("the batch size must be at least 1, got \(batchSize)") }
    var data = SeededGenerator(seed: seed ^ 0x5EED_DA7A)
    let x = (0..<(length * batchSize * inputSize)).map { _ in Double(data.nextNormal()) }
    let y = (0..<batchSize).map { _ in data.nextNormal() }
    let batch = try SequenceBatch<Double>(
      steps: length, batchSize: batchSize, inputs: .vectors(x, features: inputSize),
      targets: .classes(Array(repeating: -1, count: length * batchSize)))
    return try cells.map { cell in
      let network = try RecurrentNetwork<Double>(
        .init(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, outputSize: 1), seed: seed)
      return try profile(of: network, on: batch, targets: .values(y, width: 1), loss: .squaredError)
    }
  }

  /// A text table of the profiles: one row per step t (every `every`-th step, always the first and last),
  /// one column per profile, values ‖∂L_n/∂s_t‖ in scientific notation.
  public static func table(_ profiles: [GradientFlowProfile], every: Int = 1) -> String {
    guard let n = profiles.map(\.norms.count).max(), n > 0 else { return "" }
    let width = max(12, (profiles.map(\.name.count).max() ?? 0) + 2)
    var lines: [String] = []
    lines.append(pad("t", 6) + profiles.map { pad($0.name, width) }.joined())
    let stepEvery = max(1, every)
    for t in 1...n where t == 1 || t == n || (n - t) % stepEvery == 0 {
      var row = pad("\(t)", 6)
      for p in profiles {
        row += pad(t <= p.norms.count ? String(format: "%.3e", p.norms[t - 1]) : "", width)
      }
      lines.append(row)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The ratio ‖δ^{s_1}‖ / ‖∂L_n/∂s_n‖ of each profile: how much of the last step's gradient reaches the first
  /// step.
  public static func attenuation(_ profile: GradientFlowProfile) -> Double {
    profile.relativeNorms.first ?? .nan
  }

  /// A log-scale line plot of ‖∂L_n/∂s_t‖ against t, one line per profile.
  public static func plot(_ profiles: [GradientFlowProfile], title: String, relative: Bool = false) -> LinePlot {
    LinePlot(
      title: title, xLabel: "time step t",
      yLabel: relative ? "‖δ^{s_t}‖ / ‖∂L_n/∂s_n‖" : "‖δ^{s_t}‖ = ‖∂L_n/∂s_t‖", yScale: .log10,
      series: profiles.map { .init(name: $0.name, y: relative ? $0.relativeNorms : $0.norms) })
  }

  private static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : String(repeating: " ", count: width - s.count) + s
  }
}

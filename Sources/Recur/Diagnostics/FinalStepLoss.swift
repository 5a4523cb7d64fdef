import Foundation

/// Targets for the last step of each sequence only: the chapter's thought experiment in "Vanishing
/// gradients and gating mechanisms" ("only the output at the end of the sequence is incorrect"), and the
/// loss of the adding problem.
public enum FinalStepTargets<Scalar: RecurScalar>: Sendable, Equatable {
  /// A class index per sequence (cross-entropy), B.
  case classes([Int])
  /// V real values per sequence (squared error or binary cross-entropy), B × V.
  case values([Scalar], width: Int)
}

extension RecurrentNetwork {
  /// The loss L_n(g_n, y_n) at each sequence's own last step and, when `gradient` is given, its gradient with
  /// respect to every parameter, accumulated (`+=`); the mean over the B sequences is what is differentiated.
  ///
  /// The network runs forward once to find s_n and z^2_n = W^o s_n + W^o_0, the loss gradient
  /// ∂L_n/∂s_n = W^{oT} ∂L_n/∂z^2_n is formed, and BPTT carries it back through time (no other step has a
  /// loss). With `recordFutureLossGradients` the result holds ‖∂L_n/∂s_t‖ for t = 1 … n per layer: for
  /// t < n that is the chapter's δ^{s_t}; entry n is the loss gradient at the last step itself.
  ///
  /// - Parameters:
  ///   - batch: B input sequences (time-major, with lengths); its targets are ignored.
  ///   - targets: y_n for each sequence, B (classes) or B × V (values).
  ///   - loss: L_elt at the last step.
  ///   - gradient: receives dL/dW (accumulated), or nil for the loss alone.
  ///   - workspace: reusable buffers, or nil for fresh ones.
  ///   - recordFutureLossGradients: also return ‖∂L_n/∂s_t‖ for every layer and step.
  /// - Returns: the mean loss over the sequences, and the per-step gradient norms when recorded.
  public func finalStepLoss(
    for batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>, loss: ElementLoss,
    gradient: inout RecurrentNetwork?, workspace: NetworkWorkspace<Scalar>? = nil,
    recordFutureLossGradients: Bool = false
  ) throws -> (loss: Double, futureLossGradientNorms: [[Double]]?) {
    let B = batch.batchSize, H = configuration.hiddenSize, V = configuration.outputSize, L = configuration.layers
    switch targets {
    case .classes(let ids):
      guard ids.count == B else { throw ModelError("\(ids.count) final targets for a batch of \(B) sequences") }
      try loss.check(
        .classes(firstOutOfRange: ids.first { $0 < 0 || $0 >= V }), outputSize: V,
        outputActivation: configuration.outputActivation)
    case .values(let y, let w):
      guard y.count == B * w else {
        throw ModelError("final targets need \(B)×\(w) values (B × V), got \(y.count)")
      }
      try loss.check(.values(width: w), outputSize: V, outputActivation: configuration.outputActivation)
    }
    // No step carries a per-step loss: every class target is "none".
    let silent = try SequenceBatch(
      steps: batch.steps, batchSize: B, lengths: batch.lengths, inputs: batch.inputs,
      targets: .classes(Array(repeating: -1, count: batch.steps * B)))
    let ws = workspace ?? NetworkWorkspace()
    let forward = try self.loss(for: silent, loss: .crossEntropy, workspace: ws)
    let top = forward.finalState.h[L - 1].scalars  // s_n, B × H

    // z^2_n = W^o s_n + W^o_0 and dL/dz^2_n (already divided by B).
    var dz = [Scalar](repeating: 0, count: B * V)
    var total = 0.0
    let w = headWeight.scalars, bias = headBias.scalars
    for b in 0..<B {
      var z = [Double](repeating: 0, count: V)
      for v in 0..<V {
        var sum = Double(bias[v])
        for j in 0..<H { sum += Double(w[v * H + j]) * Double(top[b * H + j]) }
        z[v] = sum
      }
      switch (loss, targets) {
      case (.crossEntropy, .classes(let ids)):
        let m = z.max()!
        let e = z.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        total += m + Foundation.log(s) - z[ids[b]]
        for v in 0..<V { dz[b * V + v] = Scalar((e[v] / s - (v == ids[b] ? 1 : 0)) / Double(B)) }
      case (.binaryCrossEntropy, .values(let y, _)):
        for v in 0..<V {
          let yi = Double(y[b * V + v])
          total += max(z[v], 0) + Foundation.log1p(Foundation.exp(-abs(z[v]))) - yi * z[v]
          dz[b * V + v] = Scalar((1 / (1 + Foundation.exp(-z[v])) - yi) / Double(B))
        }
      case (.squaredError, .values(let y, _)):
        for v in 0..<V {
          let (g, slope): (Double, Double)
          switch configuration.outputActivation {
          case .identity, .softmax: (g, slope) = (z[v], 1)
          case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-z[v]))
            (g, slope) = (s, s * (1 - s))
          case .tanh:
            let t = Foundation.tanh(z[v])
            (g, slope) = (t, 1 - t * t)
          }
          let diff = g - Double(y[b * V + v])
          total += diff * diff
          dz[b * V + v] = Scalar(2 * diff * slope / Double(B))
        }
      default: preconditionFailure("loss and targets were checked")
      }
    }
    let meanLoss = total / Double(B)
    guard gradient != nil || recordFutureLossGradients else { return (meanLoss, nil) }

    // ∂L/∂s_n = dZ W^o for the top layer; the lower layers and memory cells get theirs through BPTT.
    var ds = [Scalar](repeating: 0, count: B * H)
    for b in 0..<B {
      for v in 0..<V where dz[b * V + v] != 0 {
        let g = dz[b * V + v]
        for j in 0..<H { ds[b * H + j] += g * w[v * H + j] }
      }
    }
    var finalGradient = zeroState(batch: B)
    finalGradient.h[L - 1] = Tensor(shape: [B, H], scalars: ds)
    var g = gradient ?? zeros()
    // Output layer: dW^o += dZ^T S_n, dW^o_0 += Σ_b dZ_b.
    for b in 0..<B {
      for v in 0..<V {
        let d = dz[b * V + v]
        g.headBias.scalars[v] += d
        for j in 0..<H { g.headWeight.scalars[v * H + j] += d * top[b * H + j] }
      }
    }
    var noDropout: SeededGenerator? = nil
    let result = try accumulateGradient(
      for: silent, loss: .crossEntropy, into: &g, workspace: ws, dropoutGenerator: &noDropout,
      recordFutureLossGradients: recordFutureLossGradients, finalStateGradient: finalGradient)
    if gradient != nil { gradient = g }
    return (meanLoss, result.futureLossGradientNorms)
  }
}

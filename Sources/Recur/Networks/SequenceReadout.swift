/// How the top layer's outputs s_1 … s_n of a sequence become the one vector p that its one target is read
/// from, y = f_o(W^o p + W^o_0): sequence classification and regression with one label per sequence.
public enum SequenceReadout: String, Sendable, Codable, CaseIterable {
  /// p = s_n, the state after the sequence's own last step (the chapter's reading of a sequence classifier).
  case last
  /// p = (1/n) Σ_{t=1…n} s_t, the mean over the sequence's steps (padding excluded).
  case mean
  /// p_j = max_{t=1…n} s_{t,j}, feature by feature (padding excluded).
  case max
}

/// Per-class weights w_k in the loss of one label per sequence: L = Σ_b w_{y_b} ℓ_b / Σ_b w_{y_b}, the
/// weighted mean of PyTorch's `CrossEntropyLoss(weight=w)`. For binary labels the classes are 0 and 1.
public enum ClassWeights: Sendable, Equatable, Codable {
  /// w_k = n / (K n_k) for the n labels of the training set, n_k of class k (scikit-learn's
  /// `class_weight="balanced"`); a class that does not occur gets weight 1.
  case balanced
  /// K weights given, each finite and ≥ 0.
  case given([Double])

  /// The K weights for a training set's labels.
  ///
  /// - Throws: ``ModelError`` when given weights are not K finite non-negative numbers, or a label is outside
  ///   0 … K−1.
  public func weights(labels: [Int], classCount K: Int) throws -> [Double] {
    switch self {
    case .given(let w):
      try Self.check(w, classCount: K)
      return w
    case .balanced:
      var counts = [Int](repeating: 0, count: K)
      for y in labels {
        guard (0..<K).contains(y) else { throw ModelError("label \(y) is outside the \(K) classes") }
        counts[y] += 1
      }
      return counts.map { $0 == 0 ? 1 : Double(labels.count) / (Double(K) * Double($0)) }
    }
  }

  /// Checks K weights: K of them, each finite and ≥ 0, at least one positive.
  static func check(_ w: [Double], classCount K: Int) throws {
    guard w.count == K else { throw ModelError("\(w.count) class weights given for \(K) classes") }
    if let bad = w.first(where: { !$0.isFinite || $0 < 0 }) {
      throw ModelError("class weights must be finite and ≥ 0, got \(bad)")
    }
    guard w.contains(where: { $0 > 0 }) else { throw ModelError("at least one class weight must be positive") }
  }
}

extension RecurrentNetwork {
  /// Reads one vector per sequence off the top layer's outputs of the last forward pass: p (B × H, H the
  /// stack's output width) into `workspace.finalTop`, returned. For ``SequenceReadout/max`` the step each
  /// feature was taken from goes into `workspace.readoutArgmax` (B × H). Every length n_b must be ≥ 1.
  @_specialize(where Scalar == Float)
  func readOut(
    _ batch: SequenceBatch<Scalar>, readout: SequenceReadout, workspace ws: NetworkWorkspace<Scalar>
  ) -> UnsafePointer<Scalar> {
    let B = batch.batchSize, H = stack.outputSize
    let top = stack.topOutputs(batch: B, workspace: ws.stack)  // s_t of sequence b at row t·B + b
    let p = ws.finalTop.reserve(B * H)
    if readout == .max, ws.readoutArgmax.count < B * H { ws.readoutArgmax = Array(repeating: 0, count: B * H) }
    for b in 0..<B {
      let n = batch.lengths[b], pb = p + b * H
      switch readout {
      case .last:
        pb.update(from: top + ((n - 1) * B + b) * H, count: H)
      case .mean:
        pb.update(repeating: 0, count: H)
        for t in 0..<n {
          let s = top + (t * B + b) * H
          for j in 0..<H { pb[j] += s[j] }
        }
        let scale = 1 / Scalar(n)
        for j in 0..<H { pb[j] *= scale }
      case .max:
        pb.update(from: top + b * H, count: H)
        for j in 0..<H { ws.readoutArgmax[b * H + j] = 0 }
        for t in 1..<Swift.max(n, 1) {
          let s = top + (t * B + b) * H
          for j in 0..<H where s[j] > pb[j] {
            pb[j] = s[j]
            ws.readoutArgmax[b * H + j] = Int32(t)
          }
        }
      }
    }
    return UnsafePointer(p)
  }

  /// The backward step of ``readOut(_:readout:workspace:)``: ∂L/∂p (B × H) onto the top layer's steps,
  ///
  ///     last: ∂L/∂s_{n_b} = ∂L/∂p_b;   mean: ∂L/∂s_t = ∂L/∂p_b / n_b (t ≤ n_b);
  ///     max:  ∂L/∂s_{t,j} = ∂L/∂p_{b,j} at the step t that held the maximum
  ///
  /// written into `dTop` (T·B × H, zero where p did not read s_t). For ``SequenceReadout/last`` through one
  /// direction, s_{n_b} is the top layer's final state, so ∂L/∂p is returned instead as dJ/ds_T of that layer
  /// (added to `finalStateGradient`) and `dTop` is all zero: BPTT then records ‖δ^{s_n}‖ as the loss gradient
  /// itself, as for the chapter's final-step loss.
  func readOutBackward(
    _ batch: SequenceBatch<Scalar>, readout: SequenceReadout, gradient dp: UnsafePointer<Scalar>,
    into dTop: UnsafeMutablePointer<Scalar>, finalStateGradient: inout RecurrentState<Scalar>?,
    workspace ws: NetworkWorkspace<Scalar>
  ) {
    let T = batch.steps, B = batch.batchSize, H = stack.outputSize
    dTop.update(repeating: 0, count: T * B * H)
    if readout == .last, !stack.isBidirectional {
      var ds = finalStateGradient ?? zeroState(batch: B)
      ds.h[configuration.layers - 1].withMutablePointer { dsn in
        for i in 0..<(B * H) { dsn[i] += dp[i] }
      }
      finalStateGradient = ds
      return
    }
    for b in 0..<B {
      let n = batch.lengths[b], dpb = dp + b * H
      switch readout {
      case .last:
        (dTop + ((n - 1) * B + b) * H).update(from: dpb, count: H)
      case .mean:
        let scale = 1 / Scalar(n)
        for t in 0..<n {
          let d = dTop + (t * B + b) * H
          for j in 0..<H { d[j] = dpb[j] * scale }
        }
      case .max:
        for j in 0..<H { dTop[(Int(ws.readoutArgmax[b * H + j]) * B + b) * H + j] = dpb[j] }
      }
    }
  }

  /// The loss of a batch with one target per sequence, read off each sequence's outputs by `readout`,
  /// without gradients: ``loss(for:finalTargets:loss:reduction:initialState:workspace:)`` with a readout and
  /// class weights. The batch's own per-step targets are ignored.
  ///
  /// - Parameters:
  ///   - batch: B sequences (time-major, with lengths n_b ≥ 1).
  ///   - targets: y_b for each sequence.
  ///   - readout: how p_b is read from s_1 … s_{n_b}.
  ///   - loss: L_elt(f_o(W^o p_b + W^o_0), y_b).
  ///   - classWeights: w_k per class (V for cross-entropy, 2 for binary labels), or nil for all 1.
  ///   - workspace: reusable buffers, or nil for fresh ones.
  /// - Returns: ``LossResult/loss`` = Σ_b w_{y_b} ℓ_b / Σ_b w_{y_b}; ``LossResult/elementLossSum`` the
  ///   weighted sum; ``LossResult/elementCount`` = B.
  /// - Throws: ``ModelError`` when the batch, targets, loss or weights do not fit.
  @_specialize(where Scalar == Float)
  public func sequenceLoss(
    for batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>, readout: SequenceReadout,
    loss: ElementLoss, classWeights: [Double]? = nil, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    try validate(batch, loss: loss, finalTargets: targets, readout: readout, classWeights: classWeights)
    let pass = forwardLoss(
      batch, finalTargets: targets, readout: readout, classWeights: classWeights, loss: loss,
      reduction: .meanOverSequences, initialState: nil, workspace: workspace ?? NetworkWorkspace(), dropout: nil,
      differentiate: false)
    return LossResult(
      loss: pass.sum * pass.scale, elementLossSum: pass.sum, elementCount: pass.count, finalState: pass.finalState)
  }

  /// The loss of a batch with one target per sequence (see ``sequenceLoss(for:targets:readout:loss:classWeights:workspace:)``)
  /// and its gradient with respect to every parameter, accumulated (`+=`) into `gradient`: the one BPTT path,
  /// ``accumulateGradient(for:finalTargets:loss:reduction:initialState:into:workspace:dropoutGenerator:recordFutureLossGradients:finalStateGradient:)``,
  /// with a readout and class weights.
  ///
  /// With p_b read off the top layer's outputs, z_b = W^o p_b + W^o_0 and δ_b = ∂L/∂z_b:
  ///
  ///     dL/dW^o = Σ_b δ_b p_bᵀ,   dL/dW^o_0 = Σ_b δ_b,   ∂L/∂p_b = W^{oT} δ_b
  ///     last: ∂L/∂s_{n_b} = ∂L/∂p_b;   mean: ∂L/∂s_t = ∂L/∂p_b / n_b (t ≤ n_b);
  ///     max:  ∂L/∂s_{t,j} = ∂L/∂p_{b,j} at the step t that held the maximum
  ///
  /// and BPTT carries ∂L/∂s_t back through the layers and time as for per-step losses.
  ///
  /// - Parameters:
  ///   - batch: B sequences (time-major, with lengths n_b ≥ 1).
  ///   - targets: y_b for each sequence.
  ///   - readout: how p_b is read from s_1 … s_{n_b}.
  ///   - loss: L_elt.
  ///   - classWeights: w_k per class, or nil.
  ///   - gradient: receives dL/dW, accumulated.
  ///   - workspace: reusable buffers (one per training loop).
  ///   - dropoutGenerator: when given and the configuration has dropout, the pass trains with dropout drawn
  ///     from it; nil means no dropout.
  public func accumulateSequenceGradient(
    for batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>, readout: SequenceReadout,
    loss: ElementLoss, classWeights: [Double]? = nil, into gradient: inout RecurrentNetwork,
    workspace: NetworkWorkspace<Scalar>? = nil, dropoutGenerator: inout SeededGenerator?
  ) throws -> LossResult<Scalar> {
    try accumulateGradient(
      for: batch, finalTargets: targets, readout: readout, classWeights: classWeights, loss: loss,
      reduction: .meanOverSequences, globalScale: nil, initialState: nil, into: &gradient, workspace: workspace,
      dropout: dropoutMasks(drawingFrom: &dropoutGenerator))
  }

  /// The outputs g_b = f_o(W^o p_b + W^o_0) of a batch with one output per sequence, B × V.
  ///
  /// - Throws: ``ModelError`` when the batch does not fit the network or a sequence is empty.
  @_specialize(where Scalar == Float)
  public func sequenceOutputs(
    for batch: SequenceBatch<Scalar>, readout: SequenceReadout, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> Tensor<Scalar> {
    try validate(batch, loss: nil)
    if let empty = batch.lengths.firstIndex(of: 0) {
      throw ModelError("sequence \(empty) of the batch has no steps to read an output from")
    }
    let ws = workspace ?? NetworkWorkspace()
    forwardStack(batch, initialState: nil, workspace: ws, dropout: nil)
    head(rows: batch.batchSize, top: readOut(batch, readout: readout, workspace: ws), workspace: ws)
    var g = Tensor<Scalar>(shape: [batch.batchSize, configuration.outputSize])
    g.withMutablePointer { out in applyOutputActivation(rows: batch.batchSize, z: ws.logits.pointer, g: out) }
    return g
  }
}

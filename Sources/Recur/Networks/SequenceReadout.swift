import Foundation

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
      guard w.count == K else { throw ModelError("\(w.count) class weights given for \(K) classes") }
      if let bad = w.first(where: { !$0.isFinite || $0 < 0 }) {
        throw ModelError("class weights must be finite and ≥ 0, got \(bad)")
      }
      guard w.contains(where: { $0 > 0 }) else { throw ModelError("at least one class weight must be positive") }
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
}

extension RecurrentNetwork {
  /// Checks a batch with one target per sequence against the network and the loss.
  func validate(
    _ batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>, loss: ElementLoss, classWeights: [Double]?
  ) throws {
    try validate(batch, loss: nil)
    guard case .vectors = batch.inputs else {
      throw ModelError("one target per sequence needs vector inputs, not token ids")
    }
    let B = batch.batchSize, V = configuration.outputSize
    if let empty = batch.lengths.firstIndex(of: 0) {
      throw ModelError("sequence \(empty) of the batch has no steps to read a target from")
    }
    let count: Int
    switch targets {
    case .classes(let ids): count = ids.count
    case .values(let v, let w): count = w > 0 ? v.count / w : 0
    }
    guard count == B else { throw ModelError("\(count) sequence targets for a batch of \(B) sequences") }
    switch (loss, targets) {
    case (.crossEntropy, .classes(let ids)):
      if let bad = ids.first(where: { $0 < 0 || $0 >= V }) {
        throw ModelError("target class \(bad) is outside the \(V) outputs")
      }
      if let classWeights, classWeights.count != V {
        throw ModelError("\(classWeights.count) class weights for \(V) classes")
      }
    case (.binaryCrossEntropy, .values(let y, let w)):
      guard w == V, y.count == B * V else { throw ModelError("sequence targets have \(w) values but the network has \(V) outputs") }
      if let classWeights {
        guard V == 1, classWeights.count == 2 else {
          throw ModelError("binary class weights need one output and two weights (classes 0 and 1)")
        }
      }
    case (.squaredError, .values(let y, let w)):
      guard w == V, y.count == B * V else { throw ModelError("sequence targets have \(w) values but the network has \(V) outputs") }
      if configuration.outputActivation == .softmax {
        throw ModelError("squared error with a softmax output is not supported; use cross-entropy")
      }
      guard classWeights == nil else { throw ModelError("class weights apply to class labels, not real targets") }
    case (.crossEntropy, .values): throw ModelError("cross-entropy needs class targets, not value vectors")
    case (_, .classes): throw ModelError("\(loss.rawValue) needs value targets, not class indices")
    }
    if let classWeights, let bad = classWeights.first(where: { !$0.isFinite || $0 < 0 }) {
      throw ModelError("class weights must be finite and ≥ 0, got \(bad)")
    }
  }

  /// Runs the stack over a batch and reads one vector per sequence: p (B × H) into `workspace.outputs`, and
  /// z^2 = W^o p + W^o_0 (B × V) into `workspace.logits`. For ``SequenceReadout/max`` the step each feature
  /// was taken from goes into `argmax` (B × H).
  @_specialize(where Scalar == Float)
  func forwardReadout(
    _ batch: SequenceBatch<Scalar>, readout: SequenceReadout, workspace ws: NetworkWorkspace<Scalar>,
    dropoutGenerator: UnsafeMutablePointer<SeededGenerator>?, argmax: inout [Int32]
  ) {
    let B = batch.batchSize, H = stack.outputSize
    forwardStack(batch, initialState: nil, workspace: ws, dropoutGenerator: dropoutGenerator)
    let top = stack.topOutputs(batch: B, workspace: ws.stack)  // s_t of sequence b at row t·B + b
    let p = ws.outputs.reserve(B * H)
    if readout == .max, argmax.count < B * H { argmax = Array(repeating: 0, count: B * H) }
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
        for j in 0..<H { argmax[b * H + j] = 0 }
        for t in 1..<Swift.max(n, 1) {
          let s = top + (t * B + b) * H
          for j in 0..<H where s[j] > pb[j] {
            pb[j] = s[j]
            argmax[b * H + j] = Int32(t)
          }
        }
      }
    }
    head(rows: B, top: UnsafePointer(p), workspace: ws)
  }

  /// The loss of one target per sequence from z^2 in `workspace.logits`: Σ_b w_b ℓ_b and Σ_b w_b (w_b = 1
  /// without class weights), and, when `gradient` is set, dL/dz^2 of L = Σ_b w_b ℓ_b / Σ_b w_b into
  /// `workspace.dLogits`.
  func sequenceElementLoss(
    targets: FinalStepTargets<Scalar>, loss: ElementLoss, classWeights: [Double]?, batch B: Int,
    workspace ws: NetworkWorkspace<Scalar>, gradient: Bool
  ) -> (weightedSum: Double, weightSum: Double) {
    let V = configuration.outputSize
    let z = ws.logits.pointer
    let dz: UnsafeMutablePointer<Scalar>? = gradient ? ws.dLogits.reserve(B * V) : nil
    var sum = 0.0, weightSum = 0.0
    for b in 0..<B {
      let zb = z + b * V
      switch (loss, targets) {
      case (.crossEntropy, .classes(let ids)):
        // ℓ = log Σ_k e^{z_k} − z_y; dℓ/dz = softmax(z) − onehot(y).
        let y = ids[b], w = classWeights?[y] ?? 1
        var m = -Double.infinity
        for k in 0..<V { m = Swift.max(m, Double(zb[k])) }
        var s = 0.0
        for k in 0..<V { s += Foundation.exp(Double(zb[k]) - m) }
        sum += w * (m + Foundation.log(s) - Double(zb[y]))
        weightSum += w
        if let dz {
          for k in 0..<V { dz[b * V + k] = Scalar(w * (Foundation.exp(Double(zb[k]) - m) / s - (k == y ? 1 : 0))) }
        }
      case (.binaryCrossEntropy, .values(let y, _)):
        // ℓ = Σ_k softplus(z_k) − y_k z_k; dℓ/dz = σ(z) − y.
        let w = classWeights.map { $0[Double(y[b * V]) > 0.5 ? 1 : 0] } ?? 1
        for k in 0..<V {
          let zi = Double(zb[k]), yi = Double(y[b * V + k])
          sum += w * (Swift.max(zi, 0) + Foundation.log1p(Foundation.exp(-abs(zi))) - yi * zi)
          dz?[b * V + k] = Scalar(w * (1 / (1 + Foundation.exp(-zi)) - yi))
        }
        weightSum += w
      case (.squaredError, .values(let y, _)):
        // ℓ = Σ_k (g_k − y_k)², g = f_o(z); dℓ/dz = 2 (g − y) f_o'(z).
        for k in 0..<V {
          let zi = Double(zb[k])
          let (g, slope): (Double, Double)
          switch configuration.outputActivation {
          case .identity, .softmax: (g, slope) = (zi, 1)
          case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-zi))
            (g, slope) = (s, s * (1 - s))
          case .tanh:
            let t = Foundation.tanh(zi)
            (g, slope) = (t, 1 - t * t)
          }
          let diff = g - Double(y[b * V + k])
          sum += diff * diff
          dz?[b * V + k] = Scalar(2 * diff * slope)
        }
        weightSum += 1
      default: preconditionFailure("loss and targets were validated")
      }
    }
    if let dz {
      let scale = Scalar(weightSum > 0 ? 1 / weightSum : 0)
      for i in 0..<(B * V) { dz[i] *= scale }
    }
    return (sum, weightSum)
  }

  /// The loss of a batch with one target per sequence, read off each sequence's outputs by `readout`,
  /// without gradients. The batch's own per-step targets are ignored.
  ///
  /// - Parameters:
  ///   - batch: B vector sequences (time-major, with lengths n_b ≥ 1).
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
    try validate(batch, targets: targets, loss: loss, classWeights: classWeights)
    let ws = workspace ?? NetworkWorkspace()
    var argmax: [Int32] = []
    forwardReadout(batch, readout: readout, workspace: ws, dropoutGenerator: nil, argmax: &argmax)
    let (sum, weights) = sequenceElementLoss(
      targets: targets, loss: loss, classWeights: classWeights, batch: batch.batchSize, workspace: ws, gradient: false)
    return LossResult(
      loss: weights > 0 ? sum / weights : 0, elementLossSum: sum, elementCount: batch.batchSize,
      finalState: stack.finalState(steps: batch.steps, batch: batch.batchSize, workspace: ws.stack))
  }

  /// The loss of a batch with one target per sequence (see ``sequenceLoss(for:targets:readout:loss:classWeights:workspace:)``)
  /// and its gradient with respect to every parameter, accumulated (`+=`) into `gradient`.
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
  ///   - batch: B vector sequences (time-major, with lengths n_b ≥ 1).
  ///   - targets: y_b for each sequence.
  ///   - readout: how p_b is read from s_1 … s_{n_b}.
  ///   - loss: L_elt.
  ///   - classWeights: w_k per class, or nil.
  ///   - gradient: receives dL/dW, accumulated.
  ///   - workspace: reusable buffers (one per training loop).
  ///   - dropoutGenerator: when given and the configuration has dropout, the pass trains with dropout drawn
  ///     from it; nil means no dropout.
  @_specialize(where Scalar == Float)
  public func accumulateSequenceGradient(
    for batch: SequenceBatch<Scalar>, targets: FinalStepTargets<Scalar>, readout: SequenceReadout,
    loss: ElementLoss, classWeights: [Double]? = nil, into gradient: inout RecurrentNetwork,
    workspace: NetworkWorkspace<Scalar>? = nil, dropoutGenerator: inout SeededGenerator?
  ) throws -> LossResult<Scalar> {
    try validate(batch, targets: targets, loss: loss, classWeights: classWeights)
    let ws = workspace ?? NetworkWorkspace()
    let T = batch.steps, B = batch.batchSize, H = stack.outputSize, V = configuration.outputSize
    let useDropout = dropoutGenerator != nil && configuration.dropout > 0
    var rng = dropoutGenerator ?? SeededGenerator(seed: 0)
    var argmax: [Int32] = []
    let result: LossResult<Scalar> = withUnsafeMutablePointer(to: &rng) { rngPointer in
      forwardReadout(batch, readout: readout, workspace: ws, dropoutGenerator: useDropout ? rngPointer : nil, argmax: &argmax)
      let (sum, weights) = sequenceElementLoss(
        targets: targets, loss: loss, classWeights: classWeights, batch: B, workspace: ws, gradient: true)
      let finalState = stack.finalState(steps: T, batch: B, workspace: ws.stack)
      let dz = UnsafePointer(ws.dLogits.pointer), p = UnsafePointer(ws.outputs.pointer)

      // Output layer: dW^o += dZᵀ P, dW^o_0 += Σ_b δ_b, dP = dZ W^o.
      gradient.headWeight.withMutablePointer { dw in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: V, n: H, k: B, alpha: 1, a: dz, lda: V, b: p, ldb: H, beta: 1,
          c: dw, ldc: H)
      }
      gradient.headBias.withMutablePointer { Scalar.sumRows(rows: B, width: V, a: dz, lda: V, out: $0) }
      let dp = ws.embeddingMask.reserve(B * H)  // ∂L/∂p, B × H (the embedding mask is unused: vector inputs)
      headWeight.withPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: false, m: B, n: H, k: V, alpha: 1, a: dz, lda: V, b: w, ldb: H, beta: 0,
          c: dp, ldc: H)
      }

      // The readout, backwards: ∂L/∂s_t for every step of the top layer (zero where p did not read s_t).
      let dTop = ws.dTop.reserve(T * B * H)
      dTop.update(repeating: 0, count: T * B * H)
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
          for j in 0..<H { dTop[(Int(argmax[b * H + j]) * B + b) * H + j] = dpb[j] }
        }
      }
      let lengths = batch.lengths.contains { $0 < T } ? batch.lengths : nil
      let dInput = ws.dInput.reserve(T * B * stack.inputSize)
      _ = withStackInputPointer(batch, workspace: ws) { x in
        stack.backward(
          input: x, steps: T, batch: B, lengths: lengths, outputGradient: dTop, finalStateGradient: nil,
          workspace: ws.stack, gradient: &gradient.stack, inputGradient: dInput)
      }
      let I = stack.inputSize
      return LossResult(
        loss: weights > 0 ? sum / weights : 0, elementLossSum: sum, elementCount: B, finalState: finalState,
        inputGradient: Tensor(shape: [T, B, I], scalars: Array(UnsafeBufferPointer(start: dInput, count: T * B * I))))
    }
    if useDropout { dropoutGenerator = rng }
    return result
  }

  /// The outputs g_b = f_o(W^o p_b + W^o_0) of a batch with one output per sequence, B × V.
  ///
  /// - Throws: ``ModelError`` when the batch does not fit the network or a sequence is empty.
  @_specialize(where Scalar == Float)
  public func sequenceOutputs(
    for batch: SequenceBatch<Scalar>, readout: SequenceReadout, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> Tensor<Scalar> {
    try validate(batch, loss: nil)
    guard case .vectors = batch.inputs else {
      throw ModelError("one output per sequence needs vector inputs, not token ids")
    }
    if let empty = batch.lengths.firstIndex(of: 0) {
      throw ModelError("sequence \(empty) of the batch has no steps to read an output from")
    }
    let ws = workspace ?? NetworkWorkspace()
    var argmax: [Int32] = []
    forwardReadout(batch, readout: readout, workspace: ws, dropoutGenerator: nil, argmax: &argmax)
    var g = Tensor<Scalar>(shape: [batch.batchSize, configuration.outputSize])
    g.withMutablePointer { out in applyOutputActivation(rows: batch.batchSize, z: ws.logits.pointer, g: out) }
    return g
  }
}

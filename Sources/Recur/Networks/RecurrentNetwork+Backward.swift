extension RecurrentNetwork {
  /// Back-propagation through time: the loss of a batch and its gradient with respect to every parameter,
  /// accumulated (`+=`) into `gradient` (a value of the same type; start from ``Parameterized/zeros()``).
  ///
  /// The forward pass keeps per-step caches; the backward pass walks them in reverse carrying
  /// δ^{s_t} = ∂F_t/∂s_t, exactly as the chapter derives:
  ///
  ///     δ^{s_{t-1}} = (∂s_t/∂s_{t-1}) [∂L_t/∂s_t + δ^{s_t}],   ∂L_t/∂s_t = W^{oT} ∂L_t/∂z^2_t
  ///     dL/dW^o = Σ_t (∂L_t/∂z^2_t) s_t^T,   dL/dW^o_0 = Σ_t ∂L_t/∂z^2_t
  ///     dL/dW^{ss}_0 = Σ_t (∂s_t/∂z^1_t)(∂L_t/∂s_t + δ^{s_t})
  ///
  /// With `finalTargets`, the loss is L_n(g_n, y_n) at each sequence's own last step n only (the chapter's
  /// thought experiment in "Vanishing gradients and gating mechanisms", and the adding problem's loss): the head
  /// reads s_n, ∂L_n/∂s_n = W^{oT} ∂L_n/∂z^2_n enters BPTT as the gradient of the final state, and no other step
  /// has a loss. ‖δ^{s_n}‖, recorded at step n, is then that loss gradient itself.
  ///
  /// - Parameters:
  ///   - batch: B sequences of inputs and targets (time-major, with lengths).
  ///   - finalTargets: y_n for each sequence (the batch's own targets are then not read), or nil for the
  ///     batch's per-step targets.
  ///   - loss: L_elt.
  ///   - reduction: how element losses combine (the chapter's J(W) by default).
  ///   - initialState: s_0, or nil for zeros.
  ///   - gradient: receives dJ/dW for every parameter, accumulated.
  ///   - workspace: reusable buffers (one per training loop).
  ///   - dropoutGenerator: when given and the configuration has dropout, the pass trains with dropout: one
  ///     number is drawn from the generator, and the masks of every layer and sequence follow from it (so
  ///     that a data-parallel ``Trainer`` draws the same masks on any number of ranks); nil means no dropout
  ///     (evaluation).
  ///   - recordFutureLossGradients: also return ‖δ^{s_t}‖ for every layer and step.
  ///   - finalStateGradient: dJ/ds_T from a loss on the final state (used by gradient checks), or nil.
  public func accumulateGradient(
    for batch: SequenceBatch<Scalar>, finalTargets: FinalStepTargets<Scalar>? = nil, loss: ElementLoss,
    reduction: LossReduction = .meanOverSequences, initialState: RecurrentState<Scalar>? = nil,
    into gradient: inout RecurrentNetwork, workspace: NetworkWorkspace<Scalar>? = nil,
    dropoutGenerator: inout SeededGenerator?, recordFutureLossGradients: Bool = false,
    finalStateGradient: RecurrentState<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    try accumulateGradient(
      for: batch, finalTargets: finalTargets, loss: loss, reduction: reduction, globalScale: nil,
      initialState: initialState, into: &gradient, workspace: workspace,
      dropout: dropoutMasks(drawingFrom: &dropoutGenerator), recordFutureLossGradients: recordFutureLossGradients,
      finalStateGradient: finalStateGradient)
  }

  /// The dropout masks of one pass of a single process: one number drawn from `generator` when it is given
  /// and the configuration has dropout, else nil (no dropout).
  func dropoutMasks(drawingFrom generator: inout SeededGenerator?) -> DropoutMasks? {
    guard configuration.usesTrainingMasks, var g = generator else { return nil }
    defer { generator = g }
    return DropoutMasks(key: g.next(), firstStream: 0)
  }

  /// The one BPTT path behind ``accumulateGradient(for:finalTargets:loss:reduction:initialState:into:workspace:dropoutGenerator:recordFutureLossGradients:finalStateGradient:)``
  /// and ``accumulateSequenceGradient(for:targets:readout:loss:classWeights:into:workspace:dropoutGenerator:)``:
  /// with `finalTargets`, the head reads the vector p_b that `readout` takes off each sequence's outputs
  /// (nil: the final state s_n, the same as ``SequenceReadout/last`` through one direction), and
  /// `classWeights` weight each sequence's loss. For one rank's
  /// share of a larger batch the loss sum is scaled by `globalScale` (the reduction's factor for the whole
  /// batch) when given, and dropout uses `dropout`'s masks for the rows' global sequence indices. With
  /// `overlap`, each parameter gradient is handed to it as soon as it is final (the head first, then the layers
  /// from the top, then the embedding), so that its reduction over the ranks runs while BPTT goes on.
  @_specialize(where Scalar == Float)
  func accumulateGradient(
    for batch: SequenceBatch<Scalar>, finalTargets: FinalStepTargets<Scalar>? = nil,
    readout: SequenceReadout? = nil, classWeights: [Double]? = nil, loss: ElementLoss,
    reduction: LossReduction, globalScale: Double?, initialState: RecurrentState<Scalar>?,
    into gradient: inout RecurrentNetwork, workspace: NetworkWorkspace<Scalar>?, dropout: DropoutMasks?,
    recordFutureLossGradients: Bool = false, finalStateGradient: RecurrentState<Scalar>? = nil,
    overlap: (any GradientReadiness<Scalar>)? = nil
  ) throws -> LossResult<Scalar> {
    try validate(batch, loss: loss, finalTargets: finalTargets, readout: readout, classWeights: classWeights)
    let ws = workspace ?? NetworkWorkspace()
    let T = batch.steps, B = batch.batchSize, rows = T * B
    let H = stack.outputSize, V = configuration.outputSize
    let useDropout = dropout != nil && configuration.usesTrainingMasks
    let result: LossResult<Scalar> = {
      let pass = forwardLoss(
        batch, finalTargets: finalTargets, readout: readout ?? .last, classWeights: classWeights, loss: loss,
        reduction: reduction, initialState: initialState, workspace: ws, dropout: useDropout ? dropout : nil,
        differentiate: true, globalScale: globalScale)
      let dz = ws.dLogits.pointer

      // Output layer: dW^o += dZ^T S, dW^o_0 += Σ_t dZ_t, ∂L_t/∂s_t = dZ W^o (for the head's rows: every
      // step, or each sequence's last).
      gradient.headWeight.withMutablePointer { dw in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: V, n: H, k: pass.rows, alpha: 1, a: dz, lda: V, b: pass.top,
          ldb: H, beta: 1, c: dw, ldc: H)
      }
      gradient.headBias.withMutablePointer { Scalar.sumRows(rows: pass.rows, width: V, a: dz, lda: V, out: $0) }
      if let overlap {
        overlap.finished(gradient.headBias)
        overlap.finished(gradient.headWeight)
      }
      let dTop = ws.dTop.reserve(rows * H)
      var finalStateGradient = finalStateGradient
      if finalTargets != nil {
        // ∂L/∂p_b = W^{oT} δ_b, then back through the readout onto the top layer's steps (for the last step
        // of one direction: onto dJ/ds_T of the top layer); no other step's output carries a loss.
        let dp = ws.dFinalTop.reserve(B * H)
        headWeight.withPointer { w in
          Scalar.gemm(
            transposeA: false, transposeB: false, m: B, n: H, k: V, alpha: 1, a: dz, lda: V, b: w, ldb: H,
            beta: 0, c: dp, ldc: H)
        }
        if ws.usedOutputDropout { Dropout.backward(count: B * H, mask: ws.outputMask.pointer, gradient: dp) }
        readOutBackward(
          batch, readout: readout ?? .last, gradient: dp, into: dTop, finalStateGradient: &finalStateGradient, workspace: ws)
      } else {
        headWeight.withPointer { w in
          Scalar.gemm(
            transposeA: false, transposeB: false, m: rows, n: H, k: V, alpha: 1, a: dz, lda: V, b: w, ldb: H,
            beta: 0, c: dTop, ldc: H)
        }
        if ws.usedOutputDropout { Dropout.backward(count: rows * H, mask: ws.outputMask.pointer, gradient: dTop) }
      }
      let (sum, count, scale, finalState) = (pass.sum, pass.count, pass.scale, pass.finalState)

      // The recurrent layers, through time.
      let stackInputSize = stack.inputSize
      let dInput = ws.dInput.reserve(rows * stackInputSize)
      let lengths = batch.lengths.contains { $0 < T } ? batch.lengths : nil
      let initialGradient: RecurrentState<Scalar>
      if ws.usedTokenTable, case .tokens(let ids) = batch.inputs {
        // The bottom layer adds dL/dE itself (see EmbeddedTokens).
        initialGradient = withTokens(ids, workspace: ws, forming: false) { tokens in
          gradient.embedding!.withMutablePointer { dTable in
            // With embedding dropout the layer's dE is dJ/d(m ⊙ E): masked row by row afterwards.
            let V = configuration.inputSize, E = stackInputSize
            let dropped = ws.usedEmbeddingRowDropout
            let dE = dropped ? ws.droppedEmbeddingGradient.reserve(V * E) : dTable
            if dropped { dE.update(repeating: 0, count: V * E) }
            let s0 = stack.backward(
              input: UnsafePointer(ws.embedded.pointer), steps: T, batch: B, lengths: lengths, outputGradient: dTop,
              finalStateGradient: finalStateGradient, workspace: ws.stack, gradient: &gradient.stack,
              inputGradient: nil, recordDeltaNorms: recordFutureLossGradients, tokens: tokens,
              embeddingGradient: dE, overlap: overlap)
            if dropped {
              let rowMask = ws.embeddingRowMask.pointer
              for v in 0..<V {
                for j in 0..<E { dTable[v * E + j] += dE[v * E + j] * rowMask[v] }
              }
            }
            return s0
          }
        }
      } else {
        initialGradient = withStackInputPointer(batch, workspace: ws) { x in
          stack.backward(
            input: x, steps: T, batch: B, lengths: lengths, outputGradient: dTop,
            finalStateGradient: finalStateGradient, workspace: ws.stack, gradient: &gradient.stack,
            inputGradient: dInput, recordDeltaNorms: recordFutureLossGradients, overlap: overlap)
        }
      }

      var inputGradient: Tensor<Scalar>? = nil
      switch batch.inputs {
      case .vectors(_, let features):
        inputGradient = Tensor(
          shape: [T, B, features], scalars: Array(UnsafeBufferPointer(start: dInput, count: rows * features)))
      case .tokens where ws.usedTokenTable:
        break  // dE is already accumulated.
      case .tokens(let ids):
        // dE[id] += dL/dx for the row's token (through the embedding dropout mask).
        let E = stackInputSize
        if ws.usedEmbeddingDropout {
          Dropout.backward(count: rows * E, mask: ws.embeddingMask.pointer, gradient: dInput)
        }
        gradient.embedding!.withMutablePointer { dTable in
          if ws.usedEmbeddingRowDropout {
            // x_r = m_{id_r} E[id_r], so dE[id] += m_id dL/dx_r.
            let rowMask = ws.embeddingRowMask.pointer
            for (r, id) in ids.enumerated() {
              let row = dTable + Int(id) * E, src = dInput + r * E, m = rowMask[Int(id)]
              for j in 0..<E { row[j] += src[j] * m }
            }
          } else {
            for (r, id) in ids.enumerated() {
              let row = dTable + Int(id) * E, src = dInput + r * E
              for j in 0..<E { row[j] += src[j] }
            }
          }
        }
      }
      if let overlap, let embedding = gradient.embedding { overlap.finished(embedding) }
      return LossResult(
        loss: sum * scale, elementLossSum: sum, elementCount: count, finalState: finalState,
        initialStateGradient: initialGradient, inputGradient: inputGradient,
        futureLossGradientNorms: recordFutureLossGradients ? ws.stack.deltaNorms.map { $0.map { $0.squareRoot() } } : nil)
    }()
    return result
  }

  /// The loss of a batch and its gradient (a fresh value of the network's type), without dropout.
  public func gradient(
    for batch: SequenceBatch<Scalar>, loss: ElementLoss, reduction: LossReduction = .meanOverSequences,
    initialState: RecurrentState<Scalar>? = nil, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> (result: LossResult<Scalar>, gradient: RecurrentNetwork) {
    var g = zeros()
    var noDropout: SeededGenerator? = nil
    let r = try accumulateGradient(
      for: batch, loss: loss, reduction: reduction, initialState: initialState, into: &g, workspace: workspace,
      dropoutGenerator: &noDropout)
    return (r, g)
  }
}

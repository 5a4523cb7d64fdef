import Foundation

extension RecurrentNetwork {
  /// Checks that `batch` (or, with `finalTargets`, its inputs and those targets) fits this network and `loss`.
  func validate(
    _ batch: SequenceBatch<Scalar>, loss: ElementLoss?, finalTargets: FinalStepTargets<Scalar>? = nil,
    readout: SequenceReadout? = nil, classWeights: [Double]? = nil
  ) throws {
    switch batch.inputs {
    case .tokens(let ids):
      guard configuration.embeddingSize != nil else {
        throw ModelError("this network takes vectors of \(configuration.inputSize) features, not token ids")
      }
      if let bad = ids.first(where: { $0 < 0 || Int($0) >= configuration.inputSize }) {
        throw ModelError("token id \(bad) is outside the vocabulary of \(configuration.inputSize)")
      }
    case .vectors(_, let features):
      guard configuration.embeddingSize == nil else { throw ModelError("this network takes token ids, not vectors") }
      guard features == configuration.inputSize else {
        throw ModelError("inputs have \(features) features but the network expects \(configuration.inputSize)")
      }
    }
    guard let loss else { return }
    let V = configuration.outputSize, B = batch.batchSize
    let form: ElementLoss.TargetForm
    if finalTargets != nil, readout == nil, stack.isBidirectional {
      throw ModelError("a bidirectional network reads one target per sequence through a readout (last, mean or max), not the final state")
    }
    if finalTargets != nil, let empty = batch.lengths.firstIndex(of: 0) {
      throw ModelError("sequence \(empty) of the batch has no steps to read a target from")
    }
    switch (finalTargets, batch.targets) {
    case (.classes(let ids)?, _):
      guard ids.count == B else { throw ModelError("\(ids.count) final targets for a batch of \(B) sequences") }
      form = .classes(firstOutOfRange: ids.first { $0 < 0 || $0 >= V })
    case (.values(let y, let width)?, _):
      guard y.count == B * width else {
        throw ModelError("final targets need \(B)×\(width) values (B × V), got \(y.count)")
      }
      form = .values(width: width)
    case (nil, .classes(let ids)): form = .classes(firstOutOfRange: ids.first { Int($0) >= V }.map(Int.init))
    case (nil, .values(_, let width)): form = .values(width: width)
    }
    try loss.check(form, outputSize: V, outputActivation: configuration.outputActivation)
    if let classWeights {
      guard finalTargets != nil else { throw ModelError("class weights apply to one target per sequence") }
      try loss.checkClassWeights(classWeights, outputSize: V)
    }
  }

  /// Forward pass over a batch: embedding or vector inputs → stack → z^2 = W^o s_t + W^o_0 for all steps.
  @_specialize(where Scalar == Float)
  func forwardLogits(
    _ batch: SequenceBatch<Scalar>, initialState: RecurrentState<Scalar>?, workspace: NetworkWorkspace<Scalar>,
    dropout: DropoutMasks?
  ) {
    forwardStack(batch, initialState: initialState, workspace: workspace, dropout: dropout)
    head(
      rows: batch.steps * batch.batchSize, top: stack.topOutputs(batch: batch.batchSize, workspace: workspace.stack),
      workspace: workspace)
  }

  /// Embedding or vector inputs → the stack of recurrent layers, over every step of a batch.
  @_specialize(where Scalar == Float)
  func forwardStack(
    _ batch: SequenceBatch<Scalar>, initialState: RecurrentState<Scalar>?, workspace: NetworkWorkspace<Scalar>,
    dropout: DropoutMasks?
  ) {
    let T = batch.steps, B = batch.batchSize
    let lengths = batch.lengths.contains { $0 < T } ? batch.lengths : nil
    withStackInput(batch, workspace: workspace, dropout: dropout) { x, tokens in
      stack.forward(
        input: x, steps: T, batch: B, lengths: lengths, initialState: initialState, workspace: workspace.stack,
        dropout: dropout, tokens: tokens)
    }
  }

  /// The output layer: z^2 = W^o s + W^o_0 for `rows` top-layer states s (rows × H) into `workspace.logits`.
  @_specialize(where Scalar == Float)
  func head(rows: Int, top: UnsafePointer<Scalar>, workspace: NetworkWorkspace<Scalar>) {
    let H = stack.outputSize, V = configuration.outputSize
    let z = workspace.logits.reserve(rows * V)
    headBias.withPointer { Scalar.addRowVector(rows: rows, width: V, vector: $0, beta: 0, c: z, ldc: V) }
    headWeight.withPointer { w in
      Scalar.gemm(
        transposeA: false, transposeB: true, m: rows, n: V, k: H, alpha: 1, a: top, lda: H, b: w, ldb: H, beta: 1,
        c: z, ldc: V)
    }
  }

  /// Calls `body` with the stack's input: the batch's vectors, or the embedded tokens (with dropout when
  /// training); or, for more tokens than the vocabulary has and no embedding dropout, with the tokens
  /// themselves for the bottom layer to read through its projected table (``EmbeddedTokens``; the pointer
  /// is then not read).
  func withStackInput<R>(
    _ batch: SequenceBatch<Scalar>, workspace: NetworkWorkspace<Scalar>,
    dropout: DropoutMasks?,
    _ body: (UnsafePointer<Scalar>, EmbeddedTokens<Scalar>?) -> R
  ) -> R {
    workspace.usedTokenTable = false
    switch batch.inputs {
    case .vectors(let values, _):
      return values.withUnsafeBufferPointer { body($0.baseAddress!, nil) }
    case .tokens(let ids):
      let E = configuration.embeddingSize!, V = configuration.inputSize
      let regularization = configuration.regularization
      // Plain dropout draws a mask at every step; locked input dropout one per sequence (exclusive).
      let inputP = configuration.dropout > 0 ? configuration.dropout : regularization.inputDropout
      workspace.usedEmbeddingDropout = inputP > 0 && dropout != nil
      workspace.usedEmbeddingRowDropout = regularization.embeddingDropout > 0 && dropout != nil
      if workspace.usedEmbeddingRowDropout, let dropout {
        // x_r = m_{id_r} E[id_r]: one keep decision per row of the table for the whole batch.
        let rowMask = workspace.embeddingRowMask.reserve(V)
        dropout.fillShared(rowMask, slot: .embeddingRows, count: V, probability: regularization.embeddingDropout)
      }
      if !workspace.usedEmbeddingDropout, ids.count > V {
        // Whole rows dropped are a table m ⊙ E, which the bottom layer projects as it projects E.
        workspace.usedTokenTable = true
        return withTokens(ids, workspace: workspace) { body(UnsafePointer(workspace.embedded.reserve(1)), $0) }
      }
      let x = workspace.embedded.reserve(ids.count * E)
      embedding!.withPointer { table in
        for (r, id) in ids.enumerated() { (x + r * E).update(from: table + Int(id) * E, count: E) }
      }
      if workspace.usedEmbeddingRowDropout {
        let rowMask = workspace.embeddingRowMask.pointer
        for (r, id) in ids.enumerated() {
          let m = rowMask[Int(id)], row = x + r * E
          for j in 0..<E { row[j] *= m }
        }
      }
      if workspace.usedEmbeddingDropout, let dropout {
        let mask = workspace.embeddingMask.reserve(ids.count * E)
        Dropout.forward(
          masks: dropout, slot: .layerInput(0), steps: batch.steps, batch: batch.batchSize, width: E,
          probability: inputP, locked: configuration.dropout == 0, input: x, mask: mask, output: x)
      }
      return body(x, nil)
    }
  }

  /// Calls `body` with the token ids and the embedding table as ``EmbeddedTokens``: E, or with embedding
  /// dropout in this pass m ⊙ E (formed here in the forward pass, read again in the backward pass).
  func withTokens<R>(_ ids: [Int32], workspace: NetworkWorkspace<Scalar>, forming: Bool = true, _ body: (EmbeddedTokens<Scalar>) -> R) -> R {
    let V = configuration.inputSize
    return ids.withUnsafeBufferPointer { idp in
      embedding!.withPointer { table in
        guard workspace.usedEmbeddingRowDropout else {
          return body(EmbeddedTokens(ids: idp.baseAddress!, table: table, vocabularySize: V))
        }
        let E = configuration.embeddingSize!
        if forming {
          let dropped = workspace.droppedEmbedding.reserve(V * E), rowMask = workspace.embeddingRowMask.pointer
          for v in 0..<V {
            for j in 0..<E { dropped[v * E + j] = table[v * E + j] * rowMask[v] }
          }
        }
        return body(EmbeddedTokens(ids: idp.baseAddress!, table: workspace.droppedEmbedding.pointer, vocabularySize: V))
      }
    }
  }

  /// Σ_t L_elt over unpadded steps, and, when `scale` is given, dL/dz^2 (scaled) into `workspace.dLogits`
  /// (the loss itself is ``ElementLoss``'s, in Losses/).
  @_specialize(where Scalar == Float)
  func elementLoss(
    _ batch: SequenceBatch<Scalar>, loss: ElementLoss, workspace: NetworkWorkspace<Scalar>, scale: Scalar?
  ) -> (sum: Double, count: Int) {
    let T = batch.steps, B = batch.batchSize, rows = T * B, V = configuration.outputSize
    let weights = workspace.rowWeights.reserve(rows)
    var count = 0
    for t in 0..<T {
      for b in 0..<B {
        var live = t < batch.lengths[b]
        if case .classes(let ids) = batch.targets, ids[t * B + b] < 0 { live = false }
        weights[t * B + b] = live ? 1 : 0
        if live { count += 1 }
      }
    }
    let dz: UnsafeMutablePointer<Scalar>? = scale != nil ? workspace.dLogits.reserve(rows * V) : nil
    func evaluate(_ targets: LossTargetRows<Scalar>) -> Double {
      loss.evaluate(
        rows: rows, outputs: V, logits: workspace.logits.pointer, targets: targets, weights: weights,
        outputActivation: configuration.outputActivation, scale: scale, dLogits: dz, activated: workspace.outputs)
    }
    let sum: Double
    switch batch.targets {
    case .classes(let ids): sum = ids.withUnsafeBufferPointer { evaluate(.classes($0.baseAddress!)) }
    case .values(let y, _): sum = y.withUnsafeBufferPointer { evaluate(.values($0.baseAddress!)) }
    }
    return (sum, count)
  }

  /// The forward pass and the loss of a batch, shared by ``loss(for:finalTargets:loss:reduction:initialState:workspace:)``,
  /// ``sequenceLoss(for:targets:readout:loss:classWeights:workspace:)`` and back-propagation: the loss is
  /// taken at every step against the batch's targets, or, with `finalTargets`, once per sequence on the vector
  /// p_b that `readout` reads off its outputs (``SequenceReadout/last``: s_n, the chapter's final-step loss
  /// L_n(g_n, y_n)); the head then reads the B vectors p_b. With `classWeights` (one target per sequence
  /// only) sequence b's loss is weighted by w_{y_b} and the batch's loss is Σ_b w_{y_b} ℓ_b / Σ_b w_{y_b}.
  /// With `differentiate`, the reduced dL/dz^2 of those rows is left in `workspace.dLogits`.
  ///
  /// - Returns: Σ L_elt (weighted), the number of elements, the reduction's factor, s_T, and the head's rows
  ///   (T·B, or B with `finalTargets`) with the vectors they read (rows × H).
  @_specialize(where Scalar == Float)
  func forwardLoss(
    _ batch: SequenceBatch<Scalar>, finalTargets: FinalStepTargets<Scalar>?, readout: SequenceReadout = .last,
    classWeights: [Double]? = nil, loss: ElementLoss, reduction: LossReduction,
    initialState: RecurrentState<Scalar>?, workspace ws: NetworkWorkspace<Scalar>, dropout: DropoutMasks?,
    differentiate: Bool, globalScale: Double? = nil
  ) -> (sum: Double, count: Int, scale: Double, finalState: RecurrentState<Scalar>, rows: Int, top: UnsafePointer<Scalar>) {
    let T = batch.steps, B = batch.batchSize, V = configuration.outputSize
    forwardStack(batch, initialState: initialState, workspace: ws, dropout: dropout)
    let finalState = stack.finalState(steps: T, batch: B, workspace: ws.stack)
    let sum: Double, count: Int, rows: Int, top: UnsafePointer<Scalar>
    var weightSum: Double? = nil
    // Output dropout: one mask per sequence on what the head reads (every step's s_t, or p_b; the same
    // thing for a locked mask, which commutes with the last, mean and max readouts).
    let outputP = configuration.regularization.outputDropout
    ws.usedOutputDropout = outputP > 0 && dropout != nil
    func droppedOut(_ top: UnsafePointer<Scalar>, steps: Int) -> UnsafePointer<Scalar> {
      guard ws.usedOutputDropout, let dropout else { return top }
      let n = steps * B * stack.outputSize
      let dropped = ws.droppedTop.reserve(n)
      Dropout.forward(
        masks: dropout, slot: .output(layers: configuration.layers), steps: steps, batch: B, width: stack.outputSize,
        probability: outputP, locked: true, input: top, mask: ws.outputMask.reserve(n), output: dropped)
      return UnsafePointer(dropped)
    }
    if let finalTargets {
      // z^2_b = W^o p_b + W^o_0 for the vector p_b read off each sequence's outputs.
      rows = B
      top = droppedOut(readOut(batch, readout: readout, workspace: ws), steps: 1)
      head(rows: B, top: top, workspace: ws)
      let weights = ws.rowWeights.reserve(B)
      let w = finalTargets.rowWeights(classWeights: classWeights, outputs: V)
      for b in 0..<B { weights[b] = Scalar(w?[b] ?? 1) }
      weightSum = w.map { $0.reduce(0, +) }
      func evaluate(_ targets: LossTargetRows<Scalar>) -> Double {
        loss.evaluate(
          rows: B, outputs: V, logits: ws.logits.pointer, targets: targets, weights: weights,
          outputActivation: configuration.outputActivation, scale: differentiate ? 1 : nil,
          dLogits: differentiate ? ws.dLogits.reserve(B * V) : nil, activated: ws.outputs)
      }
      switch finalTargets {
      case .classes(let ids):
        ws.targets = ids.map { Int32($0) }
        sum = ws.targets.withUnsafeBufferPointer { evaluate(.classes($0.baseAddress!)) }
      case .values(let y, _): sum = y.withUnsafeBufferPointer { evaluate(.values($0.baseAddress!)) }
      }
      count = B
    } else {
      rows = T * B
      top = droppedOut(UnsafePointer(stack.topOutputs(batch: B, workspace: ws.stack)), steps: T)
      head(rows: rows, top: top, workspace: ws)
      (sum, count) = elementLoss(batch, loss: loss, workspace: ws, scale: differentiate ? 1 : nil)
    }
    // The loss kernels write dL/dz^2 for the plain sum; the reduction's factor (the weighted mean's 1/Σ_b w_b
    // with class weights) is applied once the number of elements is known (or is the global one of a
    // data-parallel step, given).
    let scale = globalScale ?? weightSum.map { $0 > 0 ? 1 / $0 : 0 } ?? reduction.scale(sequences: B, elements: count)
    if differentiate, scale != 1 {
      let dz = ws.dLogits.pointer
      for i in 0..<(rows * V) { dz[i] *= Scalar(scale) }
    }
    return (sum, count, scale, finalState, rows, top)
  }

  /// Runs the network over a batch and computes the loss, without gradients.
  ///
  /// - Parameters:
  ///   - batch: B sequences of inputs and targets.
  ///   - finalTargets: y_n for each sequence when the loss is at each sequence's own last step only (the
  ///     batch's own targets are then not read); nil for the batch's per-step targets.
  ///   - loss: L_elt.
  ///   - reduction: how element losses combine (the chapter's J(W) by default).
  ///   - initialState: s_0, or nil for zeros.
  ///   - workspace: reusable buffers, or nil for fresh ones.
  /// - Throws: ``ModelError`` when the batch does not fit the network or the loss.
  @_specialize(where Scalar == Float)
  public func loss(
    for batch: SequenceBatch<Scalar>, finalTargets: FinalStepTargets<Scalar>? = nil, loss: ElementLoss,
    reduction: LossReduction = .meanOverSequences, initialState: RecurrentState<Scalar>? = nil,
    workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    try validate(batch, loss: loss, finalTargets: finalTargets)
    let pass = forwardLoss(
      batch, finalTargets: finalTargets, loss: loss, reduction: reduction, initialState: initialState,
      workspace: workspace ?? NetworkWorkspace(), dropout: nil, differentiate: false)
    return LossResult(
      loss: pass.sum * pass.scale, elementLossSum: pass.sum, elementCount: pass.count, finalState: pass.finalState)
  }

  /// The stack input pointer of the last forward pass (embedded tokens are already in the workspace).
  func withStackInputPointer<R>(
    _ batch: SequenceBatch<Scalar>, workspace: NetworkWorkspace<Scalar>, _ body: (UnsafePointer<Scalar>) -> R
  ) -> R {
    switch batch.inputs {
    case .vectors(let values, _): values.withUnsafeBufferPointer { body($0.baseAddress!) }
    case .tokens: body(workspace.embedded.pointer)
    }
  }

  /// The outputs g_t = f_o(W^o s_t + W^o_0) for every step of a batch, T × B × V (time-major), without loss.
  @_specialize(where Scalar == Float)
  public func outputs(
    for batch: SequenceBatch<Scalar>, initialState: RecurrentState<Scalar>? = nil,
    workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> (outputs: Tensor<Scalar>, finalState: RecurrentState<Scalar>) {
    try validate(batch, loss: nil)
    let ws = workspace ?? NetworkWorkspace()
    forwardLogits(batch, initialState: initialState, workspace: ws, dropout: nil)
    let rows = batch.steps * batch.batchSize, V = configuration.outputSize
    var g = Tensor<Scalar>(shape: [batch.steps, batch.batchSize, V])
    g.withMutablePointer { out in applyOutputActivation(rows: rows, z: ws.logits.pointer, g: out) }
    return (g, stack.finalState(steps: batch.steps, batch: batch.batchSize, workspace: ws.stack))
  }

  /// g = f_o(z) for `rows` rows of V.
  func applyOutputActivation(rows: Int, z: UnsafePointer<Scalar>, g: UnsafeMutablePointer<Scalar>) {
    let V = configuration.outputSize
    if let act = configuration.outputActivation.elementwise {
      Scalar.activate(act, count: rows * V, x: z, y: g)
    } else {
      Scalar.softmax(rows: rows, vocab: V, logits: z, probs: g)
    }
  }
}

import Foundation

/// The reusable workspace of a ``RecurrentNetwork``'s forward and backward passes. Keep one per training
/// loop: buffers grow to the largest batch seen and are then reused, so a step allocates nothing per time
/// step.
public final class NetworkWorkspace<Scalar: RecurScalar> {
  let stack = StackWorkspace<Scalar>()
  /// Embedded (and dropped-out) inputs, T·B × E.
  let embedded = Buffer<Scalar>()
  let embeddingMask = Buffer<Scalar>()
  var usedEmbeddingDropout = false
  /// Whether the last forward pass fed the bottom layer through ``EmbeddedTokens`` (embedded rows not formed).
  var usedTokenTable = false
  /// z^2_t for all steps, T·B × V; then its gradient.
  let logits = Buffer<Scalar>()
  let dLogits = Buffer<Scalar>()
  /// g_t = f_o(z^2_t) when needed.
  let outputs = Buffer<Scalar>()
  /// ∂L/∂s_t of the top layer, T·B × H.
  let dTop = Buffer<Scalar>()
  /// dL/d(stack input), T·B × I.
  let dInput = Buffer<Scalar>()
  /// Per-row loss weights (1 for real steps, 0 for padding).
  let rowWeights = Buffer<Scalar>()
  var targets: [Int32] = []

  /// An empty workspace; its buffers grow to the largest batch seen.
  public init() {}
}

/// What a pass over a batch computed.
public struct LossResult<Scalar: RecurScalar>: Sendable {
  /// The reduced loss that was differentiated (see ``LossReduction``).
  public var loss: Double
  /// Σ L_elt over every unpadded step of the batch.
  public var elementLossSum: Double
  /// The number of unpadded steps that carried a target.
  public var elementCount: Int
  /// s_T for each sequence (its own last state).
  public var finalState: RecurrentState<Scalar>
  /// dL/ds_0, when a backward pass ran.
  public var initialStateGradient: RecurrentState<Scalar>?
  /// dL/dx_t (T·B × I, time-major) for vector inputs, when a backward pass ran.
  public var inputGradient: Tensor<Scalar>?
  /// ‖δ^{s_t}‖ for each layer (bottom first) and step t = 1 … T, when requested: the norm over the batch of
  /// the gradient of the future loss F_t with respect to s_t (the chapter's section "Back-propagation through
  /// time").
  public var futureLossGradientNorms: [[Double]]?

  /// The mean loss per unpadded step.
  public var meanElementLoss: Double { elementLossSum / Double(max(elementCount, 1)) }
}

extension RecurrentNetwork {
  /// Checks that `batch` fits this network.
  func validate(_ batch: SequenceBatch<Scalar>, loss: ElementLoss?) throws {
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
    switch (loss, batch.targets) {
    case (.crossEntropy, .classes(let ids)):
      if let bad = ids.first(where: { Int($0) >= configuration.outputSize }) {
        throw ModelError("target class \(bad) is outside the \(configuration.outputSize) outputs")
      }
    case (.crossEntropy, .values):
      throw ModelError("cross-entropy needs class targets, not value vectors")
    case (.squaredError, .values(_, let w)), (.binaryCrossEntropy, .values(_, let w)):
      guard w == configuration.outputSize else {
        throw ModelError("targets have \(w) values but the network has \(configuration.outputSize) outputs")
      }
      if loss == .squaredError, configuration.outputActivation == .softmax {
        throw ModelError("squared error with a softmax output is not supported; use cross-entropy")
      }
    case (_, .classes):
      throw ModelError("\(loss.rawValue) needs value targets, not class indices")
    }
  }

  /// Forward pass over a batch: embedding or vector inputs → stack → z^2 = W^o s_t + W^o_0 for all steps.
  @_specialize(where Scalar == Float)
  func forwardLogits(
    _ batch: SequenceBatch<Scalar>, initialState: RecurrentState<Scalar>?, workspace: NetworkWorkspace<Scalar>,
    dropout: DropoutMasks?
  ) {
    let T = batch.steps, B = batch.batchSize, rows = T * B
    let H = configuration.hiddenSize, V = configuration.outputSize
    let lengths = batch.lengths.contains { $0 < T } ? batch.lengths : nil
    withStackInput(batch, workspace: workspace, dropout: dropout) { x, tokens in
      stack.forward(
        input: x, steps: T, batch: B, lengths: lengths, initialState: initialState, workspace: workspace.stack,
        dropout: dropout, tokens: tokens)
    }
    let top = stack.topOutputs(batch: B, workspace: workspace.stack)
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
    _ batch: SequenceBatch<Scalar>, workspace: NetworkWorkspace<Scalar>, dropout: DropoutMasks?,
    _ body: (UnsafePointer<Scalar>, EmbeddedTokens<Scalar>?) -> R
  ) -> R {
    workspace.usedTokenTable = false
    switch batch.inputs {
    case .vectors(let values, _):
      return values.withUnsafeBufferPointer { body($0.baseAddress!, nil) }
    case .tokens(let ids):
      let E = configuration.embeddingSize!
      workspace.usedEmbeddingDropout = configuration.dropout > 0 && dropout != nil
      if !workspace.usedEmbeddingDropout, ids.count > configuration.inputSize {
        workspace.usedTokenTable = true
        return withTokens(ids, workspace: workspace) { body(UnsafePointer(workspace.embedded.reserve(1)), $0) }
      }
      let x = workspace.embedded.reserve(ids.count * E)
      embedding!.withPointer { table in
        for (r, id) in ids.enumerated() { (x + r * E).update(from: table + Int(id) * E, count: E) }
      }
      if workspace.usedEmbeddingDropout, let dropout {
        let mask = workspace.embeddingMask.reserve(ids.count * E)
        dropout.fill(
          mask, layer: 0, steps: batch.steps, batch: batch.batchSize, width: E, probability: configuration.dropout)
        for i in 0..<(ids.count * E) { x[i] *= mask[i] }
      }
      return body(x, nil)
    }
  }

  /// Calls `body` with the token ids and the embedding table as ``EmbeddedTokens``.
  func withTokens<R>(
    _ ids: [Int32], workspace: NetworkWorkspace<Scalar>, _ body: (EmbeddedTokens<Scalar>) -> R
  ) -> R {
    ids.withUnsafeBufferPointer { idp in
      embedding!.withPointer { table in
        body(EmbeddedTokens(ids: idp.baseAddress!, table: table, vocabularySize: configuration.inputSize))
      }
    }
  }

  /// Σ_t L_elt over unpadded steps, and, when `scale` is given, dL/dz^2 (scaled) into `workspace.dLogits`.
  @_specialize(where Scalar == Float)
  func elementLoss(
    _ batch: SequenceBatch<Scalar>, loss: ElementLoss, workspace: NetworkWorkspace<Scalar>, scale: Scalar?
  ) -> (sum: Double, count: Int) {
    let T = batch.steps, B = batch.batchSize, rows = T * B, V = configuration.outputSize
    let z = workspace.logits.pointer
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
    switch (loss, batch.targets) {
    case (.crossEntropy, .classes(let ids)):
      let sum = ids.withUnsafeBufferPointer { t in
        Scalar.softmaxCrossEntropy(
          rows: rows, vocab: V, logits: z, targets: t.baseAddress!, weights: weights, scale: scale ?? 0, dlogits: dz)
      }
      return (sum, count)
    case (.binaryCrossEntropy, .values(let y, _)):
      var sum = 0.0
      for r in 0..<rows {
        let w = weights[r]
        for k in 0..<V {
          let i = r * V + k
          guard w != 0 else { dz?[i] = 0; continue }
          // −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y z, evaluated stably.
          let zi = Double(z[i]), yi = Double(y[i])
          let softplus = max(zi, 0) + Foundation.log1p(Foundation.exp(-abs(zi)))
          sum += softplus - yi * zi
          if let dz, let scale { dz[i] = scale * Scalar(1 / (1 + Foundation.exp(-zi)) - yi) }
        }
      }
      return (sum, count)
    case (.squaredError, .values(let y, _)):
      let g = workspace.outputs.reserve(rows * V)
      let act = configuration.outputActivation.elementwise ?? .identity
      Scalar.activate(act, count: rows * V, x: z, y: g)
      var sum = 0.0
      for r in 0..<rows {
        let w = weights[r]
        for k in 0..<V {
          let i = r * V + k
          let diff = w == 0 ? 0 : g[i] - y[i]
          sum += Double(diff) * Double(diff)
          // d/dg (g − y)² = 2 (g − y); chained through f_o' below.
          dz?[i] = (scale ?? 0) * 2 * diff
        }
      }
      if let dz { Scalar.activateBackward(act, count: rows * V, y: g, dy: dz, dx: dz) }
      return (sum, count)
    default:
      preconditionFailure("loss and targets were validated")
    }
  }

  /// Runs the network over a batch and computes the loss, without gradients.
  ///
  /// - Parameters:
  ///   - batch: B sequences of inputs and targets.
  ///   - loss: L_elt.
  ///   - reduction: how element losses combine (the chapter's J(W) by default).
  ///   - initialState: s_0, or nil for zeros.
  ///   - workspace: reusable buffers, or nil for fresh ones.
  /// - Throws: ``ModelError`` when the batch does not fit the network or the loss.
  @_specialize(where Scalar == Float)
  public func loss(
    for batch: SequenceBatch<Scalar>, loss: ElementLoss, reduction: LossReduction = .meanOverSequences,
    initialState: RecurrentState<Scalar>? = nil, workspace: NetworkWorkspace<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    try validate(batch, loss: loss)
    let ws = workspace ?? NetworkWorkspace()
    forwardLogits(batch, initialState: initialState, workspace: ws, dropout: nil)
    let (sum, count) = elementLoss(batch, loss: loss, workspace: ws, scale: nil)
    return LossResult(
      loss: sum * reduction.scale(sequences: batch.batchSize, elements: count), elementLossSum: sum,
      elementCount: count, finalState: stack.finalState(steps: batch.steps, batch: batch.batchSize, workspace: ws.stack))
  }

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
  /// - Parameters:
  ///   - batch: B sequences of inputs and targets (time-major, with lengths).
  ///   - loss: L_elt.
  ///   - reduction: how element losses combine (the chapter's J(W) by default).
  ///   - initialState: s_0, or nil for zeros.
  ///   - gradient: receives dJ/dW for every parameter, accumulated.
  ///   - workspace: reusable buffers (one per training loop).
  ///   - dropoutGenerator: when given and the configuration has dropout, the pass trains with dropout: one
  ///     number is drawn from the generator, and the masks of every layer and sequence follow from it (see
  ///     the ``Trainer``'s data-parallel runs); nil means no dropout (evaluation).
  ///   - recordFutureLossGradients: also return ‖δ^{s_t}‖ for every layer and step.
  ///   - finalStateGradient: dJ/ds_T from a loss on the final state (used by gradient checks), or nil.
  public func accumulateGradient(
    for batch: SequenceBatch<Scalar>, loss: ElementLoss, reduction: LossReduction = .meanOverSequences,
    initialState: RecurrentState<Scalar>? = nil, into gradient: inout RecurrentNetwork,
    workspace: NetworkWorkspace<Scalar>? = nil, dropoutGenerator: inout SeededGenerator?,
    recordFutureLossGradients: Bool = false, finalStateGradient: RecurrentState<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    var masks: DropoutMasks? = nil
    if configuration.dropout > 0, var generator = dropoutGenerator {
      masks = DropoutMasks(key: generator.next(), firstStream: 0)
      dropoutGenerator = generator
    }
    return try accumulateGradient(
      for: batch, loss: loss, scale: { reduction.scale(sequences: batch.batchSize, elements: $0) },
      initialState: initialState, into: &gradient, workspace: workspace, dropout: masks,
      recordFutureLossGradients: recordFutureLossGradients, finalStateGradient: finalStateGradient)
  }

  /// ``accumulateGradient(for:loss:reduction:initialState:into:workspace:dropoutGenerator:recordFutureLossGradients:finalStateGradient:)``
  /// for one share of a larger batch: the loss sum is scaled by `scale(count)` (given this share's number of
  /// unpadded elements, a caller that knows the global normaliser ignores it) and dropout uses `dropout`'s
  /// masks for the rows' global sequence indices.
  @_specialize(where Scalar == Float)
  func accumulateGradient(
    for batch: SequenceBatch<Scalar>, loss: ElementLoss, scale scaleForCount: (Int) -> Double,
    initialState: RecurrentState<Scalar>?, into gradient: inout RecurrentNetwork,
    workspace: NetworkWorkspace<Scalar>?, dropout: DropoutMasks?,
    recordFutureLossGradients: Bool = false, finalStateGradient: RecurrentState<Scalar>? = nil
  ) throws -> LossResult<Scalar> {
    try validate(batch, loss: loss)
    let ws = workspace ?? NetworkWorkspace()
    let T = batch.steps, B = batch.batchSize, rows = T * B
    let H = configuration.hiddenSize, V = configuration.outputSize
    let useDropout = dropout != nil && configuration.dropout > 0
    let result: LossResult<Scalar> = {
      forwardLogits(batch, initialState: initialState, workspace: ws, dropout: useDropout ? dropout : nil)
      // The loss kernels write dL/dz^2 for the plain sum; the reduction's scale is applied once the number of
      // unpadded elements is known.
      let (sum, count) = elementLoss(batch, loss: loss, workspace: ws, scale: 1)
      let scale = scaleForCount(count)
      let dz = ws.dLogits.pointer
      if scale != 1 { for i in 0..<(rows * V) { dz[i] *= Scalar(scale) } }
      let finalState = stack.finalState(steps: T, batch: B, workspace: ws.stack)

      // Output layer: dW^o += dZ^T S, dW^o_0 += Σ_t dZ_t, ∂L_t/∂s_t = dZ W^o.
      let top = stack.topOutputs(batch: B, workspace: ws.stack)
      gradient.headWeight.withMutablePointer { dw in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: V, n: H, k: rows, alpha: 1, a: dz, lda: V, b: top, ldb: H,
          beta: 1, c: dw, ldc: H)
      }
      gradient.headBias.withMutablePointer { Scalar.sumRows(rows: rows, width: V, a: dz, lda: V, out: $0) }
      let dTop = ws.dTop.reserve(rows * H)
      headWeight.withPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: false, m: rows, n: H, k: V, alpha: 1, a: dz, lda: V, b: w, ldb: H,
          beta: 0, c: dTop, ldc: H)
      }

      // The recurrent layers, through time.
      let stackInputSize = stack.inputSize
      let dInput = ws.dInput.reserve(rows * stackInputSize)
      let lengths = batch.lengths.contains { $0 < T } ? batch.lengths : nil
      let initialGradient: RecurrentState<Scalar>
      if ws.usedTokenTable, case .tokens(let ids) = batch.inputs {
        // The bottom layer adds dL/dE itself (see EmbeddedTokens).
        initialGradient = withTokens(ids, workspace: ws) { tokens in
          gradient.embedding!.withMutablePointer { dTable in
            stack.backward(
              input: UnsafePointer(ws.embedded.pointer), steps: T, batch: B, lengths: lengths, outputGradient: dTop,
              finalStateGradient: finalStateGradient, workspace: ws.stack, gradient: &gradient.stack,
              inputGradient: nil, recordDeltaNorms: recordFutureLossGradients, tokens: tokens,
              embeddingGradient: dTable)
          }
        }
      } else {
        initialGradient = withStackInputPointer(batch, workspace: ws) { x in
          stack.backward(
            input: x, steps: T, batch: B, lengths: lengths, outputGradient: dTop,
            finalStateGradient: finalStateGradient, workspace: ws.stack, gradient: &gradient.stack,
            inputGradient: dInput, recordDeltaNorms: recordFutureLossGradients)
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
          let mask = ws.embeddingMask.pointer
          for i in 0..<(rows * E) { dInput[i] *= mask[i] }
        }
        gradient.embedding!.withMutablePointer { dTable in
          for (r, id) in ids.enumerated() {
            let row = dTable + Int(id) * E, src = dInput + r * E
            for j in 0..<E { row[j] += src[j] }
          }
        }
      }
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

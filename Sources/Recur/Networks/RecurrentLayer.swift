/// One recurrent layer: a cell (one of ``CellKind``) and its fused parameters, with PyTorch's shapes and names.
///
/// - `weightIH` (`weight_ih_l{k}`): G·H × I — the chapter's W^{sx} (and W^{gx} for the gated RNN)
/// - `weightHH` (`weight_hh_l{k}`): G·H × H — the chapter's W^{ss} (and W^{gs})
/// - `biasIH`, `biasHH` (`bias_ih_l{k}`, `bias_hh_l{k}`): G·H — their sum is the chapter's W^{ss}_0
///
/// The sequence driver (the layer's internal `forward` and `backward` over T steps)
/// runs the time loop for every cell: the input projection for all T steps in one GEMM, one GEMM per step for
/// the recurrence, the cell's fused kernel, masks for variable lengths, and no allocation inside the loop.
public struct RecurrentLayer<Scalar: RecurScalar>: Sendable, Equatable {
  /// The kind of cell.
  public var kind: CellKind
  /// I, the size of each input vector x_t (ℓ in the chapter).
  public let inputSize: Int
  /// H, the size of the state s_t (m in the chapter).
  public let hiddenSize: Int
  /// W_ih, G·H × I.
  public var weightIH: Tensor<Scalar>
  /// W_hh, G·H × H.
  public var weightHH: Tensor<Scalar>
  /// b_ih, G·H.
  public var biasIH: Tensor<Scalar>
  /// b_hh, G·H.
  public var biasHH: Tensor<Scalar>

  /// A layer initialized as PyTorch does: every parameter uniform in (−1/√H, 1/√H).
  public init(kind: CellKind, inputSize: Int, hiddenSize: Int, generator: inout SeededGenerator) {
    precondition(inputSize > 0 && hiddenSize > 0, "layer sizes must be positive")
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    let g = kind.cell.gateCount * hiddenSize
    let bound = 1 / Double(hiddenSize).squareRoot()
    weightIH = .uniform(shape: [g, inputSize], low: -bound, high: bound, using: &generator)
    weightHH = .uniform(shape: [g, hiddenSize], low: -bound, high: bound, using: &generator)
    biasIH = .uniform(shape: [g], low: -bound, high: bound, using: &generator)
    biasHH = .uniform(shape: [g], low: -bound, high: bound, using: &generator)
  }

  /// G·H, the width of the fused projections.
  public var gateWidth: Int { kind.cell.gateCount * hiddenSize }

  public static func == (a: Self, b: Self) -> Bool {
    a.kind == b.kind && a.inputSize == b.inputSize && a.hiddenSize == b.hiddenSize && a.weightIH == b.weightIH
      && a.weightHH == b.weightHH && a.biasIH == b.biasIH && a.biasHH == b.biasHH
  }
}

/// The per-layer workspace of the sequence driver: caches of the forward pass that the backward pass walks
/// in reverse, and scratch for the backward pass. Reused across calls; grows only for larger batches.
final class LayerCache<Scalar: RecurScalar> {
  /// xp_t = W_ih x_t + b_ih for all steps, T·B × GH.
  let xp = Buffer<Scalar>()
  /// h_0 … h_T, (T+1)·B × H; row block t is h_t (block 0 is the initial state).
  let h = Buffer<Scalar>()
  /// c_0 … c_T for the LSTM.
  let c = Buffer<Scalar>()
  /// The cell's per-step cache, T·B × (cacheWidth·H).
  let cache = Buffer<Scalar>()
  /// hp for the current step, B × GH.
  let hp = Buffer<Scalar>()
  /// Backward: dL/dxp and dL/dhp for all steps, T·B × GH.
  let dxp = Buffer<Scalar>()
  let dhp = Buffer<Scalar>()
  /// Backward: running dL/dh and dL/dc, and their values one step earlier, B × H.
  let dh = Buffer<Scalar>()
  let dc = Buffer<Scalar>()
  let dhPrev = Buffer<Scalar>()
  let dcPrev = Buffer<Scalar>()
  /// W_hh packed once per pass for the per-step products (W_hhᵀ forward, W_hh backward).
  let packedWeight = Buffer<Scalar>()
  /// For token inputs (``EmbeddedTokens``), V × GH: the projected table E W_ihᵀ + b_ih in the forward pass,
  /// then the per-token sums of dL/dxp in the backward pass.
  let tokenRows = Buffer<Scalar>()
  /// GH: the input-side bias (b_ih, plus b_hh for additive cells) forward, bias-gradient sums backward.
  let bias = Buffer<Scalar>()
  /// With weight drop, G·H × H: dJ/d(M ⊙ W_hh) before the mask.
  let droppedWeightGradient = Buffer<Scalar>()
}

/// W_hh with DropConnect for one pass (``Regularization/weightDrop``): M ⊙ W_hh (G·H × H), which every step's
/// product reads in place of W_hh, and the mask M (0 or 1/(1 − p)) the weight gradient is multiplied by.
struct DroppedWeight<Scalar: RecurScalar> {
  /// M ⊙ W_hh.
  let weight: UnsafePointer<Scalar>
  /// M.
  let mask: UnsafePointer<Scalar>
}

extension RecurrentLayer {
  /// Calls `body` with the recurrent weights of this pass: M ⊙ W_hh with weight drop, else W_hh.
  func withRecurrentWeight<R>(_ dropped: DroppedWeight<Scalar>?, _ body: (UnsafePointer<Scalar>) -> R) -> R {
    if let dropped { return body(dropped.weight) }
    return weightHH.withPointer(body)
  }
}

/// Token inputs of a bottom layer read through an embedding table, x_t = E[id_t].
///
/// The layer then never forms the T·B × I inputs: its input projection W_ih x_t + b_ih is row id_t of the
/// V × GH table E W_ihᵀ + b_ih (one product of V rows instead of T·B), and in the backward pass the
/// gradients dW_ih, db_ih and dE come from the per-token sums S[v] = Σ_{t: id_t = v} dL/dxp_t as Sᵀ E,
/// column sums of S, and S W_ih: exact rewritings of the same sums, with V rows in place of T·B.
struct EmbeddedTokens<Scalar: RecurScalar> {
  /// T·B token ids, time-major.
  let ids: UnsafePointer<Int32>
  /// E, V × I.
  let table: UnsafePointer<Scalar>
  /// V.
  let vocabularySize: Int
}

extension RecurrentLayer {
  /// Runs the layer over T steps of B sequences.
  ///
  /// - Parameters:
  ///   - input: x_1 … x_T, time-major, T·B × I.
  ///   - lengths: each sequence's length (≤ T), or nil when all are T. From step `lengths[b]` on, row b's
  ///     state is carried unchanged, so the final state is each sequence's own last state.
  ///   - initialH, initialC: s_0 (B × H each), or nil for zeros.
  ///   - rowParts: the number of row ranges the time loop is split into across threads (``RowSplit``);
  ///     nil lets ``RowSplit/parts(batch:steps:rowWork:packed:)`` choose. The results do not depend on it.
  /// - Returns nothing; the states h_1 … h_T are in `cache.h` from offset B·H (T·B × H).
  @_specialize(where Scalar == Float)
  func forward(
    input: UnsafePointer<Scalar>, steps: Int, batch: Int, lengths: [Int]?,
    initialH: UnsafePointer<Scalar>?, initialC: UnsafePointer<Scalar>?, cache: LayerCache<Scalar>,
    tokens: EmbeddedTokens<Scalar>? = nil, droppedWeight: DroppedWeight<Scalar>? = nil, rowParts: Int? = nil
  ) {
    let cell = kind.cell
    let H = hiddenSize, G = gateWidth, T = steps, B = batch, BH = batch * hiddenSize
    let layout = LayerCacheLayout(cell: cell, hidden: H, steps: T, batch: B)
    let xp = cache.xp.reserve(layout.projections)
    let h = cache.h.reserve(layout.states)
    let c = cell.hasMemoryCell ? cache.c.reserve(layout.states) : nil
    let cc = cache.cache.reserve(layout.cellCache)
    let hp = cache.hp.reserve(layout.stepProjection)
    // For cells that only add xp and hp (all but the GRU, whose reset gate scales hp), b_hh joins b_ih in
    // the input projection and the per-step product starts from zero.
    let additive = !cell.separateRecurrentGradient
    let inputBias = cache.bias.reserve(layout.bias)
    biasIH.withPointer { bih in
      biasHH.withPointer { bhh in
        for j in 0..<G { inputBias[j] = additive ? bih[j] + bhh[j] : bih[j] }
      }
    }
    if let initialH { h.update(from: initialH, count: BH) } else { h.update(repeating: 0, count: BH) }
    if let c {
      if let initialC { c.update(from: initialC, count: BH) } else { c.update(repeating: 0, count: BH) }
    }
    if let tokens {
      // xp_t = row id_t of E W_ih^T + b_ih, the table computed in one GEMM of V rows.
      let V = tokens.vocabularySize
      let table = cache.tokenRows.reserve(layout.tokenRows(vocabulary: V))
      Scalar.addRowVector(rows: V, width: G, vector: inputBias, beta: 0, c: table, ldc: G)
      weightIH.withPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: true, m: V, n: G, k: inputSize, alpha: 1, a: tokens.table, lda: inputSize,
          b: w, ldb: inputSize, beta: 1, c: table, ldc: G)
      }
      for r in 0..<(T * B) { (xp + r * G).update(from: table + Int(tokens.ids[r]) * G, count: G) }
    } else {
      // xp = X W_ih^T + b_ih for all T steps in one GEMM.
      Scalar.addRowVector(rows: T * B, width: G, vector: inputBias, beta: 0, c: xp, ldc: G)
      weightIH.withPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: true, m: T * B, n: G, k: inputSize, alpha: 1, a: input, lda: inputSize,
          b: w, ldb: inputSize, beta: 1, c: xp, ldc: G)
      }
    }
    let masked = lengths.map { $0.contains { $0 < T } } ?? false
    // W_hhᵀ is the B operand of every step's product: pack it once for all T steps (with B > 1 rows; one
    // row is a matrix-vector product, which streams W_hh as it is).
    let packed: UnsafeMutablePointer<Scalar>? =
      B > 1 ? cache.packedWeight.reserve(layout.packedForward(Scalar.self)) : nil
    let parts =
      rowParts ?? RowSplit.parts(batch: B, steps: T, rowWork: Double(G) * Double(H), packed: packed != nil)
    withRecurrentWeight(droppedWeight) { whh in
      if let packed { Scalar.packMatrix(transposeB: true, n: G, k: H, b: whh, ldb: H, packed: packed) }
      biasHH.withPointer { bhh in
        RowSplit.run(batch: B, parts: parts) { rows, productThreads in
          // This part's rows r0 ..< r0 + n of every step's B × · blocks; rows are contiguous within a step.
          let r0 = rows.lowerBound, n = rows.count
          let hpRows = hp + r0 * G, cw = cell.cacheWidth * H
          for t in 0..<T {
            let hPrev = h + t * BH + r0 * H, hNext = h + (t + 1) * BH + r0 * H
            // hp = W_hh s_{t-1} + b_hh (b_hh already in xp for additive cells)
            if !additive { Scalar.addRowVector(rows: n, width: G, vector: bhh, beta: 0, c: hpRows, ldc: G) }
            let beta: Scalar = additive ? 0 : 1
            if let packed {
              Scalar.gemmPacked(
                transposeA: false, m: n, n: G, k: H, alpha: 1, a: hPrev, lda: H, packed: packed, beta: beta,
                c: hpRows, ldc: G, threads: productThreads)
            } else {
              Scalar.gemm(
                transposeA: false, transposeB: true, m: n, n: G, k: H, alpha: 1, a: hPrev, lda: H, b: whh, ldb: H,
                beta: beta, c: hpRows, ldc: G)
            }
            cell.forward(
              batch: n, hidden: H, xp: xp + t * B * G + r0 * G, hp: hpRows, hPrev: hPrev,
              cPrev: c.map { $0 + t * BH + r0 * H }, h: hNext, c: c.map { $0 + (t + 1) * BH + r0 * H },
              cache: cc + t * B * cw + r0 * cw)
            if masked, let lengths {
              // Finished sequences keep their state: s_t = s_{t-1}.
              for b in rows where t >= lengths[b] {
                (h + (t + 1) * BH + b * H).update(from: h + t * BH + b * H, count: H)
                if let c { (c + (t + 1) * BH + b * H).update(from: c + t * BH + b * H, count: H) }
              }
            }
          }
        }
      }
    }
  }

  /// Back-propagation through time over the steps of the last ``forward(input:steps:batch:lengths:initialH:initialC:cache:)``.
  ///
  /// Walks the caches in reverse carrying the running gradient dL/ds_t, the chapter's
  /// δ^{s_{t-1}} = ∂s_t/∂s_{t-1} [∂L_t/∂s_t + δ^{s_t}], and accumulates (`+=`) dW_ih, dW_hh, db_ih, db_hh.
  ///
  /// - Parameters:
  ///   - outputGradient: ∂L_t/∂s_t for t = 1 … T from the layer above or the output layer, T·B × H
  ///     (ignored at padded steps).
  ///   - finalHGradient, finalCGradient: dL/ds_T from a loss on the final state (B × H), or nil.
  ///   - gradient: receives the parameter gradients, accumulated.
  ///   - inputGradient: if not nil, receives dL/dx_t (T·B × I, overwritten).
  ///   - deltaNorms: if not nil, receives ‖δ^{s_t}‖ for t = 1 … T summed in squares over the batch: entry
  ///     t − 1 gets the squared norm of the future-loss gradient of s_t (h and c together for the LSTM).
  ///   - rowParts: as in the forward pass (ignored, 1, when `deltaNorms` is requested).
  /// - Returns nothing; dL/ds_0 is left in `cache.dh` (and `cache.dc`), B × H.
  @_specialize(where Scalar == Float)
  func backward(
    input: UnsafePointer<Scalar>, steps: Int, batch: Int, lengths: [Int]?,
    outputGradient: UnsafePointer<Scalar>, finalHGradient: UnsafePointer<Scalar>?,
    finalCGradient: UnsafePointer<Scalar>?, cache: LayerCache<Scalar>, gradient: inout RecurrentLayer,
    inputGradient: UnsafeMutablePointer<Scalar>?, deltaNorms: UnsafeMutablePointer<Double>?,
    tokens: EmbeddedTokens<Scalar>? = nil, embeddingGradient: UnsafeMutablePointer<Scalar>? = nil,
    droppedWeight: DroppedWeight<Scalar>? = nil, rowParts: Int? = nil
  ) {
    let cell = kind.cell
    let H = hiddenSize, G = gateWidth, T = steps, B = batch, BH = batch * hiddenSize
    let h = cache.h.pointer
    let c = cell.hasMemoryCell ? cache.c.pointer : nil
    let cc = cache.cache.pointer
    let layout = LayerCacheLayout(cell: cell, hidden: H, steps: T, batch: B)
    let dxp = cache.dxp.reserve(layout.projections)
    let dhp = cell.separateRecurrentGradient ? cache.dhp.reserve(layout.recurrentGradients) : dxp
    let dh = cache.dh.reserve(layout.runningGradient), dhPrev = cache.dhPrev.reserve(layout.runningGradient)
    let dc = cache.dc.reserve(layout.runningGradient), dcPrev = cache.dcPrev.reserve(layout.runningGradient)
    if let finalHGradient { dh.update(from: finalHGradient, count: BH) } else { dh.update(repeating: 0, count: BH) }
    if let finalCGradient { dc.update(from: finalCGradient, count: BH) } else { dc.update(repeating: 0, count: BH) }
    let masked = lengths.map { $0.contains { $0 < T } } ?? false

    // W_hh is the B operand of every step's product δ^{s_{t-1}} += dhp W_hh: pack it once (see forward).
    let packed: UnsafeMutablePointer<Scalar>? =
      B > 1 ? cache.packedWeight.reserve(layout.packedBackward(Scalar.self)) : nil
    // ‖δ^{s_t}‖ sums over the whole batch in one order, so the diagnostic pass keeps the rows together.
    let parts =
      deltaNorms != nil
      ? 1 : rowParts ?? RowSplit.parts(batch: B, steps: T, rowWork: Double(G) * Double(H), packed: packed != nil)
    withRecurrentWeight(droppedWeight) { whh in
      if let packed { Scalar.packMatrix(transposeB: false, n: H, k: G, b: whh, ldb: H, packed: packed) }
      RowSplit.run(batch: B, parts: parts) { rows, productThreads in
        let r0 = rows.lowerBound, n = rows.count, nH = n * H, cw = cell.cacheWidth * H
        // This part's rows of the running gradients (each part swaps its own pair).
        var dh = dh + r0 * H, dhPrev = dhPrev + r0 * H
        var dc = dc + r0 * H, dcPrev = dcPrev + r0 * H
        for t in stride(from: T - 1, through: 0, by: -1) {
          let hPrev = h + t * BH + r0 * H, hNow = h + (t + 1) * BH + r0 * H
          let dOut = outputGradient + t * BH + r0 * H
          if let deltaNorms {
            // δ^{s_t}: the gradient of the future loss F_t with respect to s_t, before this step's own loss.
            var sum = 0.0
            for i in 0..<nH { sum += Double(dh[i]) * Double(dh[i]) }
            if c != nil { for i in 0..<nH { sum += Double(dc[i]) * Double(dc[i]) } }
            deltaNorms[t] += sum
          }
          // dL/ds_t = ∂L_t/∂s_t + δ^{s_t}
          if masked, let lengths {
            for b in rows where t < lengths[b] {
              let i0 = (b - r0) * H
              for j in 0..<H { dh[i0 + j] += dOut[i0 + j] }
            }
          } else {
            for i in 0..<nH { dh[i] += dOut[i] }
          }
          let dxpT = dxp + t * B * G + r0 * G
          let dhpT = dhp + t * B * G + r0 * G
          cell.backward(
            batch: n, hidden: H, cache: cc + t * B * cw + r0 * cw, hPrev: hPrev,
            cPrev: c.map { UnsafePointer($0 + t * BH + r0 * H) },
            h: hNow, c: c.map { UnsafePointer($0 + (t + 1) * BH + r0 * H) },
            dh: dh, dc: c == nil ? nil : UnsafePointer(dc), dxp: dxpT,
            dhp: cell.separateRecurrentGradient ? dhpT : nil, dhPrev: dhPrev, dcPrev: c == nil ? nil : dcPrev)
          if masked, let lengths {
            // Padded steps: s_t = s_{t-1}, so the gradient passes through and the step's parameters get none.
            for b in rows where t >= lengths[b] {
              let i = b - r0
              (dxpT + i * G).update(repeating: 0, count: G)
              if cell.separateRecurrentGradient { (dhpT + i * G).update(repeating: 0, count: G) }
              (dhPrev + i * H).update(from: dh + i * H, count: H)
              if c != nil { (dcPrev + i * H).update(from: dc + i * H, count: H) }
            }
          }
          // δ^{s_{t-1}} = direct part + W_hh^T · dhp
          if let packed {
            Scalar.gemmPacked(
              transposeA: false, m: n, n: H, k: G, alpha: 1, a: dhpT, lda: G, packed: packed, beta: 1, c: dhPrev,
              ldc: H, threads: productThreads)
          } else {
            Scalar.gemm(
              transposeA: false, transposeB: false, m: n, n: H, k: G, alpha: 1, a: dhpT, lda: G, b: whh, ldb: H,
              beta: 1, c: dhPrev, ldc: H)
          }
          swap(&dh, &dhPrev)
          if c != nil { swap(&dc, &dcPrev) }
        }
        // Leave dL/ds_0 where callers look for it.
        let home = cache.dh.pointer + r0 * H
        if dh != home { home.update(from: dh, count: nH) }
        let cHome = cache.dc.pointer + r0 * H
        if c != nil, dc != cHome { cHome.update(from: dc, count: nH) }
      }
    }

    // Weight gradients for all steps at once: dW_ih += dXP^T X, dW_hh += dHP^T H_{0..T-1}.
    let biasSums = cache.bias.reserve(layout.bias)
    if let tokens {
      // S[v] = Σ_{t: id_t = v} dxp_t; then dW_ih += S^T E, db_ih += Σ_v S[v], dE += S W_ih.
      let V = tokens.vocabularySize
      let sums = cache.tokenRows.reserve(layout.tokenRows(vocabulary: V))
      sums.update(repeating: 0, count: V * G)
      for r in 0..<(T * B) {
        let row = sums + Int(tokens.ids[r]) * G, source = dxp + r * G
        for j in 0..<G { row[j] += source[j] }
      }
      gradient.weightIH.withMutablePointer { dw in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: G, n: inputSize, k: V, alpha: 1, a: sums, lda: G, b: tokens.table,
          ldb: inputSize, beta: 1, c: dw, ldc: inputSize)
      }
      biasSums.update(repeating: 0, count: G)
      Scalar.sumRows(rows: V, width: G, a: sums, lda: G, out: biasSums)
      if let embeddingGradient {
        weightIH.withPointer { w in
          Scalar.gemm(
            transposeA: false, transposeB: false, m: V, n: inputSize, k: G, alpha: 1, a: sums, lda: G, b: w,
            ldb: inputSize, beta: 1, c: embeddingGradient, ldc: inputSize)
        }
      }
    } else {
      gradient.weightIH.withMutablePointer { dw in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: G, n: inputSize, k: T * B, alpha: 1, a: dxp, lda: G, b: input,
          ldb: inputSize, beta: 1, c: dw, ldc: inputSize)
      }
      biasSums.update(repeating: 0, count: G)
      Scalar.sumRows(rows: T * B, width: G, a: dxp, lda: G, out: biasSums)
    }
    // db_ih += Σ_t dxp_t; for additive cells dhp = dxp, so db_hh gets the same sums.
    let additive = !cell.separateRecurrentGradient
    gradient.biasIH.withMutablePointer { db in for j in 0..<G { db[j] += biasSums[j] } }
    if additive { gradient.biasHH.withMutablePointer { db in for j in 0..<G { db[j] += biasSums[j] } } }
    gradient.weightHH.withMutablePointer { dw in
      if let droppedWeight {
        // The product used M ⊙ W_hh: dJ/dW_hh = M ⊙ (dHP^T H_{0..T-1}).
        let product = cache.droppedWeightGradient.reserve(layout.recurrentWeight)
        Scalar.gemm(
          transposeA: true, transposeB: false, m: G, n: H, k: T * B, alpha: 1, a: dhp, lda: G, b: h, ldb: H,
          beta: 0, c: product, ldc: H)
        let mask = droppedWeight.mask
        for i in 0..<(G * H) { dw[i] += product[i] * mask[i] }
      } else {
        Scalar.gemm(
          transposeA: true, transposeB: false, m: G, n: H, k: T * B, alpha: 1, a: dhp, lda: G, b: h, ldb: H,
          beta: 1, c: dw, ldc: H)
      }
    }
    if !additive {
      gradient.biasHH.withMutablePointer { Scalar.sumRows(rows: T * B, width: G, a: dhp, lda: G, out: $0) }
    }
    if tokens == nil, let inputGradient {
      weightIH.withPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: false, m: T * B, n: inputSize, k: G, alpha: 1, a: dxp, lda: G, b: w,
          ldb: inputSize, beta: 0, c: inputGradient, ldc: inputSize)
      }
    }
  }
}

/// The reusable buffers of a standalone ``RecurrentLayer`` pass (see
/// ``RecurrentLayer/trainingPass(input:outputGradient:workspace:gradient:inputGradient:)``): the forward
/// caches and the backward scratch. Buffers grow to the largest sequence seen and are then reused.
public final class LayerWorkspace<Scalar: RecurScalar> {
  let cache = LayerCache<Scalar>()
  /// An empty workspace; its buffers grow on first use.
  public init() {}
}

extension RecurrentLayer {
  /// One layer forward over a whole sequence from the zero state, then back-propagation through time of
  /// `outputGradient`: the unit of work of the DeepBench LSTM training benchmark (and of PyTorch's
  /// `nn.LSTM` forward + `backward`).
  ///
  /// - Parameters:
  ///   - input: x_1 … x_T, time-major, shape [T, B, I].
  ///   - outputGradient: ∂L/∂h_t for every step, shape [T, B, H].
  ///   - workspace: reusable buffers.
  ///   - gradient: receives dW_ih, dW_hh, db_ih, db_hh, accumulated (`+=`).
  ///   - inputGradient: receives dL/dx_t, shape [T, B, I] (overwritten; it must have that shape).
  ///   The states h_1 … h_T stay in `workspace`; ``outputs(batch:steps:workspace:)`` copies them out.
  /// - Throws: ``ModelError`` when a shape does not fit the layer.
  @_specialize(where Scalar == Float)
  public func trainingPass(
    input: Tensor<Scalar>, outputGradient: Tensor<Scalar>, workspace: LayerWorkspace<Scalar>,
    gradient: inout RecurrentLayer, inputGradient: inout Tensor<Scalar>
  ) throws {
    guard input.shape.count == 3, input.shape[2] == inputSize, input.shape[0] > 0, input.shape[1] > 0 else {
      throw ModelError("layer input must have shape [T, B, \(inputSize)], got \(input.shape)")
    }
    let T = input.shape[0], B = input.shape[1]
    guard outputGradient.shape == [T, B, hiddenSize] else {
      throw ModelError("output gradient must have shape [\(T), \(B), \(hiddenSize)], got \(outputGradient.shape)")
    }
    guard inputGradient.shape == input.shape else {
      throw ModelError("input gradient must have the input's shape \(input.shape), got \(inputGradient.shape)")
    }
    guard gradient.kind == kind, gradient.inputSize == inputSize, gradient.hiddenSize == hiddenSize else {
      throw ModelError("the gradient layer's shape differs from the layer's")
    }
    input.withPointer { x in
      forward(input: x, steps: T, batch: B, lengths: nil, initialH: nil, initialC: nil, cache: workspace.cache)
      outputGradient.withPointer { dOut in
        inputGradient.withMutablePointer { dx in
          backward(
            input: x, steps: T, batch: B, lengths: nil, outputGradient: dOut, finalHGradient: nil,
            finalCGradient: nil, cache: workspace.cache, gradient: &gradient, inputGradient: dx, deltaNorms: nil)
        }
      }
    }
  }

  /// The states h_1 … h_T of the last ``trainingPass(input:outputGradient:workspace:gradient:inputGradient:)``
  /// run in `workspace`, shape [T, B, H] (a new tensor).
  public func outputs(batch: Int, steps: Int, workspace: LayerWorkspace<Scalar>) -> Tensor<Scalar> {
    let count = steps * batch * hiddenSize
    return Tensor(
      shape: [steps, batch, hiddenSize],
      scalars: Array(UnsafeBufferPointer(start: workspace.cache.h.pointer + batch * hiddenSize, count: count)))
  }
}

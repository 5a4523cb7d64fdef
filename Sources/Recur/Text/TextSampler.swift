import Foundation

/// How the next token is drawn from a language model's output distribution.
public struct SamplingOptions: Sendable, Equatable, Codable {
  /// τ: tokens are drawn from softmax(z / τ). Below 1 sharpens, above 1 flattens; 0 takes the most likely
  /// token (greedy).
  public var temperature: Double
  /// When set, only the k tokens with the largest logits can be drawn.
  public var topK: Int?

  /// Sampling at temperature τ = `temperature`, optionally restricted to the `topK` most likely tokens.
  public init(temperature: Double = 1, topK: Int? = nil) {
    self.temperature = temperature
    self.topK = topK
  }

  /// Throws a ``ModelError`` for a negative or non-finite temperature or a k below 1.
  public func validate() throws {
    guard temperature.isFinite, temperature >= 0 else {
      throw ModelError("temperature must be a finite number ≥ 0, got \(temperature)")
    }
    if let topK, topK < 1 { throw ModelError("top-k must be at least 1, got \(topK)") }
  }
}

/// Steps a token language model one token at a time with B = 1, for sampling: the streaming, state-machine
/// use of a ``RecurrentNetwork`` (s_t = f_s(s_{t−1}, x_t), y_t = softmax(W^o s_t + W^o_0)), made lean.
///
/// Everything is allocated once at creation; a step allocates nothing. Per token and layer it computes
/// hp = W_hh h_{t−1} + b_hh and xp = W_ih x_t + b_ih with matrix-vector products (each weight streamed once),
/// then the cell's fused kernel; the bottom layer's xp is a row lookup in a precomputed table
/// W_ih E^T + b_ih (V × G·H), since its input is an embedding row. The head is one more matrix-vector product.
public final class TextSampler {
  /// The network being stepped (its weights were copied at creation).
  public let network: RecurrentNetwork<Float>
  /// V, H, G·H and L.
  let vocabularySize: Int, hiddenSize: Int, gateWidth: Int, layerCount: Int
  let cell: any RecurrentCell
  let hasMemoryCell: Bool

  // Owned copies of the weights (kept alive by `storage`) and raw pointers into them.
  private var storage: [Buffer<Float>] = []
  /// Layer 0's xp for every token: V × G.
  private let inputTable: UnsafeMutablePointer<Float>
  /// Per layer: W_ih (layers ≥ 1), b_ih, W_hh, b_hh.
  private var weightIH: [UnsafeMutablePointer<Float>] = [], biasIH: [UnsafeMutablePointer<Float>] = []
  private var weightHH: [UnsafeMutablePointer<Float>] = [], biasHH: [UnsafeMutablePointer<Float>] = []
  private let headWeight: UnsafeMutablePointer<Float>, headBias: UnsafeMutablePointer<Float>

  /// Per layer two H-wide slots for h (and c), used alternately: step t reads slot `current`, writes the other.
  private var h: [UnsafeMutablePointer<Float>] = [], c: [UnsafeMutablePointer<Float>] = []
  private var current = 0
  private let xp: UnsafeMutablePointer<Float>, hp: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>
  /// z = W^o s_t + W^o_0 after the last step, V.
  private let logits: UnsafeMutablePointer<Float>
  /// Sampling scratch, V.
  private let weights: UnsafeMutablePointer<Float>, selection: UnsafeMutablePointer<Float>
  /// Whether a token has been read since the last reset (so that the logits predict something).
  public private(set) var hasPrediction = false

  /// A sampler for a token language model (embedding input, softmax output), starting from the zero state.
  public init(network: RecurrentNetwork<Float>) throws {
    let config = network.configuration
    guard let E = config.embeddingSize, let embedding = network.embedding else {
      throw ModelError("sampling needs a network with token inputs (an embedding)")
    }
    guard config.outputActivation == .softmax else {
      throw ModelError("sampling needs a network with a softmax output, not \(config.outputActivation.rawValue)")
    }
    self.network = network
    let V = config.inputSize, H = config.hiddenSize, G = network.stack.layers[0].gateWidth
    vocabularySize = V
    hiddenSize = H
    gateWidth = G
    layerCount = config.layers
    cell = config.cell.cell
    hasMemoryCell = cell.hasMemoryCell

    var storage: [Buffer<Float>] = []
    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
      let buffer = Buffer<Float>(capacity: count)
      storage.append(buffer)
      return buffer.pointer
    }
    func copy(_ t: Tensor<Float>) -> UnsafeMutablePointer<Float> {
      let p = allocate(t.count)
      t.withPointer { p.update(from: $0, count: t.count) }
      return p
    }

    // Layer 0: xp(v) = W_ih E[v] + b_ih for every token v, as one GEMM.
    let first = network.stack.layers[0]
    let table = allocate(V * G)
    first.biasIH.withPointer { Float.addRowVector(rows: V, width: G, vector: $0, beta: 0, c: table, ldc: G) }
    embedding.withPointer { e in
      first.weightIH.withPointer { w in
        Float.gemm(
          transposeA: false, transposeB: true, m: V, n: G, k: E, alpha: 1, a: e, lda: E, b: w, ldb: E, beta: 1,
          c: table, ldc: G)
      }
    }
    inputTable = table
    var wih: [UnsafeMutablePointer<Float>] = [], bih: [UnsafeMutablePointer<Float>] = []
    var whh: [UnsafeMutablePointer<Float>] = [], bhh: [UnsafeMutablePointer<Float>] = []
    var hs: [UnsafeMutablePointer<Float>] = [], cs: [UnsafeMutablePointer<Float>] = []
    for layer in network.stack.layers {
      wih.append(copy(layer.weightIH))
      bih.append(copy(layer.biasIH))
      whh.append(copy(layer.weightHH))
      bhh.append(copy(layer.biasHH))
      hs.append(allocate(2 * H))
      if hasMemoryCell { cs.append(allocate(2 * H)) }
    }
    headWeight = copy(network.headWeight)
    headBias = copy(network.headBias)
    xp = allocate(G)
    hp = allocate(G)
    cache = allocate(max(1, cell.cacheWidth * H))
    logits = allocate(V)
    weights = allocate(V)
    selection = allocate(V)
    self.storage = storage
    weightIH = wih
    biasIH = bih
    weightHH = whh
    biasHH = bhh
    h = hs
    c = cs
    reset()
  }

  /// Returns to the zero state s_0.
  public func reset() {
    for p in h { p.update(repeating: 0, count: 2 * hiddenSize) }
    for p in c { p.update(repeating: 0, count: 2 * hiddenSize) }
    current = 0
    hasPrediction = false
  }

  /// Reads one token x_t: s_t = f_s(s_{t−1}, x_t), and z = W^o s_t + W^o_0 for the next token's distribution.
  /// Allocates nothing.
  ///
  /// - Parameter token: an id in 0 ..< V.
  public func step(_ token: Int) {
    precondition(token >= 0 && token < vocabularySize, "token \(token) is outside the vocabulary of \(vocabularySize)")
    let H = hiddenSize, G = gateWidth
    let read = current * H, write = (1 - current) * H
    var x: UnsafePointer<Float> = UnsafePointer(inputTable + token * G)
    for l in 0..<layerCount {
      let hPrev = h[l] + read, hNext = h[l] + write
      // hp = W_hh s_{t−1} + b_hh
      hp.update(from: biasHH[l], count: G)
      Float.gemv(transposeA: false, m: G, n: H, alpha: 1, a: weightHH[l], lda: H, x: hPrev, beta: 1, y: hp)
      let xpl: UnsafePointer<Float>
      if l == 0 {
        xpl = x
      } else {
        // xp = W_ih x_t + b_ih, x_t being the layer below's new h.
        xp.update(from: biasIH[l], count: G)
        Float.gemv(transposeA: false, m: G, n: H, alpha: 1, a: weightIH[l], lda: H, x: x, beta: 1, y: xp)
        xpl = UnsafePointer(xp)
      }
      cell.forward(
        batch: 1, hidden: H, xp: xpl, hp: hp, hPrev: hPrev, cPrev: hasMemoryCell ? UnsafePointer(c[l] + read) : nil,
        h: hNext, c: hasMemoryCell ? c[l] + write : nil, cache: cache)
      x = UnsafePointer(hNext)
    }
    // z = W^o s_t + W^o_0
    logits.update(from: headBias, count: vocabularySize)
    Float.gemv(transposeA: false, m: vocabularySize, n: H, alpha: 1, a: headWeight, lda: H, x: x, beta: 1, y: logits)
    current = 1 - current
    hasPrediction = true
  }

  /// Calls `body` with z, the V logits of the next token's distribution after the last ``step(_:)``.
  public func withLogits<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: logits, count: vocabularySize))
  }

  /// y_t = softmax(z): the next token's distribution after the last ``step(_:)`` (a new array).
  public var probabilities: [Float] {
    var p = [Float](repeating: 0, count: vocabularySize)
    p.withUnsafeMutableBufferPointer { Float.softmax(rows: 1, vocab: vocabularySize, logits: logits, probs: $0.baseAddress!) }
    return p
  }

  /// The current state s_t (a new value; for inspection).
  public var state: RecurrentState<Float> {
    let H = hiddenSize, at = current * H
    func tensor(_ p: UnsafeMutablePointer<Float>) -> Tensor<Float> {
      Tensor(shape: [1, H], scalars: Array(UnsafeBufferPointer(start: p + at, count: H)))
    }
    return RecurrentState(h: h.map(tensor), c: c.map(tensor))
  }

  /// Draws the next token from softmax(z / τ), restricted to the top k logits when set. Allocates nothing.
  ///
  /// - Parameters:
  ///   - options: temperature τ and top-k (validated by the caller; see ``SamplingOptions/validate()``).
  ///   - generator: the source of randomness (one draw per token; none when τ = 0).
  public func sample(_ options: SamplingOptions, using generator: inout SeededGenerator) -> Int {
    precondition(hasPrediction, "step at least one token before sampling")
    let V = vocabularySize
    if options.temperature == 0 { return argmax() }
    // Which tokens may be drawn: those ≥ the k-th largest logit, ties broken by lower id, exactly k of them.
    var threshold = -Float.infinity, tiesAllowed = Int.max
    if let k = options.topK, k < V {
      selection.update(from: logits, count: V)
      threshold = TextSampler.kthLargest(k, in: selection, count: V)
      var greater = 0
      for i in 0..<V where logits[i] > threshold { greater += 1 }
      tiesAllowed = k - greater
    }
    var maximum = -Float.infinity
    for i in 0..<V where logits[i] > maximum { maximum = logits[i] }
    // w_i = exp((z_i − max) / τ) for the allowed tokens.
    let inverse = Float(1 / options.temperature)
    var total: Double = 0
    var ties = 0
    for i in 0..<V {
      var allowed = logits[i] > threshold
      if logits[i] == threshold {
        allowed = ties < tiesAllowed
        ties += 1
      }
      let w: Float = allowed ? Foundation.exp((logits[i] - maximum) * inverse) : 0
      weights[i] = w
      total += Double(w)
    }
    guard total > 0, total.isFinite else { return argmax() }
    let u = generator.nextUnit() * total
    var cumulative: Double = 0
    var last = 0
    for i in 0..<V where weights[i] > 0 {
      cumulative += Double(weights[i])
      last = i
      if u < cumulative { return i }
    }
    return last
  }

  /// The id of the largest logit (the lowest id among ties).
  private func argmax() -> Int {
    var best = 0
    for i in 1..<vocabularySize where logits[i] > logits[best] { best = i }
    return best
  }

  /// The k-th largest of `selection[0 ..< count]` (1 ≤ k ≤ count), by quickselect; reorders `selection`.
  static func kthLargest(_ k: Int, in selection: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var lo = 0, hi = count - 1
    let target = k - 1
    while lo < hi {
      let pivot = selection[(lo + hi) / 2]
      var i = lo, j = hi
      // Partition in descending order.
      while i <= j {
        while selection[i] > pivot { i += 1 }
        while selection[j] < pivot { j -= 1 }
        if i <= j {
          let t = selection[i]
          selection[i] = selection[j]
          selection[j] = t
          i += 1
          j -= 1
        }
      }
      if target <= j {
        hi = j
      } else if target >= i {
        lo = i
      } else {
        return selection[target]
      }
    }
    return selection[target]
  }

  /// Generates text: resets to s_0, reads the prime, then draws up to `count` tokens, reading each one back.
  ///
  /// - Parameters:
  ///   - prime: the tokens to read first (at least one; for a model trained on lines, start with `<start>`).
  ///   - count: the most tokens to draw.
  ///   - options: temperature and top-k.
  ///   - generator: the source of randomness; the same seed gives the same text.
  ///   - stopToken: a token that ends generation (such as `<end>`); it is neither returned nor passed on.
  ///   - onToken: called with each drawn token as soon as it is drawn (for streaming output).
  /// - Returns: the drawn tokens.
  @discardableResult
  public func generate(
    prime: [Int], count: Int, options: SamplingOptions = SamplingOptions(), using generator: inout SeededGenerator,
    stopToken: Int? = nil, onToken: (Int) -> Void = { _ in }
  ) throws -> [Int] {
    try options.validate()
    guard !prime.isEmpty else { throw ModelError("generation needs at least one prime token") }
    if let bad = prime.first(where: { $0 < 0 || $0 >= vocabularySize }) {
      throw ModelError("prime token \(bad) is outside the vocabulary of \(vocabularySize)")
    }
    guard count >= 0 else { throw ModelError("the number of tokens to generate must be ≥ 0, got \(count)") }
    reset()
    for token in prime { step(token) }
    var out: [Int] = []
    out.reserveCapacity(count)
    for _ in 0..<count {
      let token = sample(options, using: &generator)
      if token == stopToken { break }
      out.append(token)
      onToken(token)
      step(token)
    }
    return out
  }
}

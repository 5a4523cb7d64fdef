/// The arithmetic of a data-parallel run, written once: which rows of a global batch a rank owns, the rows of
/// a batch and of a state, and the parameters as one flat array for a reduction.
public enum DataParallel {
  /// The rows of a global batch of B sequences that rank r of N owns: ⌊B·r/N⌋ ..< ⌊B·(r+1)/N⌋ (contiguous, in
  /// rank order; equal shares when N divides B).
  public static func rows(batch: Int, rank: Int, ranks: Int) -> Range<Int> {
    (batch * rank / ranks)..<(batch * (rank + 1) / ranks)
  }
}

extension SequenceBatch {
  /// The sequences `range` of this batch (time-major, as a batch of their own), cut to the longest of them.
  ///
  /// - Returns: nil when `range` is empty.
  func rows(_ range: Range<Int>) -> SequenceBatch? {
    guard !range.isEmpty else { return nil }
    if range == 0..<batchSize { return self }
    let B = batchSize, b = range.count
    let T = max(1, lengths[range].max() ?? 1)
    func take<E>(_ values: [E], width: Int) -> [E] {
      var out: [E] = []
      out.reserveCapacity(T * b * width)
      for t in 0..<T { out += values[((t * B + range.lowerBound) * width)..<((t * B + range.upperBound) * width)] }
      return out
    }
    let inputs: Inputs
    switch self.inputs {
    case .tokens(let ids): inputs = .tokens(take(ids, width: 1))
    case .vectors(let v, let f): inputs = .vectors(take(v, width: f), features: f)
    }
    let targets: Targets
    switch self.targets {
    case .classes(let ids): targets = .classes(take(ids, width: 1))
    case .values(let v, let w): targets = .values(take(v, width: w), width: w)
    }
    return try! SequenceBatch(
      steps: T, batchSize: b, lengths: Array(lengths[range]), inputs: inputs, targets: targets)
  }

  /// The number of unpadded steps that carry a target (the count a loss is averaged over).
  var targetCount: Int {
    var count = 0
    for b in 0..<batchSize {
      for t in 0..<lengths[b] {
        if case .classes(let ids) = targets, ids[t * batchSize + b] < 0 { continue }
        count += 1
      }
    }
    return count
  }
}

extension RecurrentState {
  /// The rows `range` of every layer's state.
  func rows(_ range: Range<Int>) -> RecurrentState {
    func cut(_ t: Tensor<Scalar>) -> Tensor<Scalar> {
      let H = t.columns
      return Tensor(shape: [range.count, H], scalars: Array(t.scalars[(range.lowerBound * H)..<(range.upperBound * H)]))
    }
    return RecurrentState(h: h.map(cut), c: c.map(cut))
  }

  /// The number of rows (sequences) of the state.
  var batchSize: Int { h.first?.rows ?? 0 }
}

extension Parameterized {
  /// Every parameter, in visiting order, as one flat array.
  func flattened() -> [Scalar] {
    var out: [Scalar] = []
    forEachParameter { _, t in out += t.scalars }
    return out
  }

  /// Sets every parameter, in visiting order, from one flat array (as ``flattened()`` makes it).
  mutating func unflatten(_ values: [Scalar]) {
    var offset = 0
    updateEachParameter { _, t in
      let n = t.count
      t.withMutablePointer { p in
        values.withUnsafeBufferPointer { v in p.update(from: v.baseAddress! + offset, count: n) }
      }
      offset += n
    }
  }
}

extension FinalStepTargets {
  /// The targets of the sequences `range`.
  func rows(_ range: Range<Int>) -> FinalStepTargets {
    switch self {
    case .classes(let ids): .classes(Array(ids[range]))
    case .values(let v, let w): .values(Array(v[(range.lowerBound * w)..<(range.upperBound * w)]), width: w)
    }
  }
}

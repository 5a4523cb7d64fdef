import Foundation

/// The targets of N rows of the head's output, as a loss reads them.
enum LossTargetRows<Scalar: RecurScalar> {
  /// A class index per row (−1: no target), N.
  case classes(UnsafePointer<Int32>)
  /// V values per row, N × V.
  case values(UnsafePointer<Scalar>)
}

extension ElementLoss {
  /// The form of a batch's targets, for ``check(_:outputSize:outputActivation:)``.
  enum TargetForm {
    /// Class indices; the first one outside 0 ..< V, if any.
    case classes(firstOutOfRange: Int?)
    /// Vectors of `width` values.
    case values(width: Int)
  }

  /// Checks that targets of the given form fit this loss and a head of V = `outputSize` outputs with f_o =
  /// `outputActivation`: the one home of the loss/target rules.
  ///
  /// - Throws: ``ModelError`` naming what does not fit.
  func check(_ targets: TargetForm, outputSize V: Int, outputActivation: OutputActivation) throws {
    switch (self, targets) {
    case (.crossEntropy, .classes(let bad)):
      if let bad { throw ModelError("target class \(bad) is outside the \(V) outputs") }
    case (.crossEntropy, .values):
      throw ModelError("cross-entropy needs class targets, not value vectors")
    case (.squaredError, .values(let w)), (.binaryCrossEntropy, .values(let w)):
      guard w == V else { throw ModelError("targets have \(w) values but the network has \(V) outputs") }
      if self == .squaredError, outputActivation == .softmax {
        throw ModelError("squared error with a softmax output is not supported; use cross-entropy")
      }
    case (_, .classes):
      throw ModelError("\(rawValue) needs value targets, not class indices")
    }
  }

  /// Checks per-class weights for this loss and a head of V = `outputSize` outputs: V weights for
  /// cross-entropy, two (classes 0 and 1) for binary cross-entropy with one output, none for squared error;
  /// each finite and ≥ 0, at least one positive.
  ///
  /// - Throws: ``ModelError`` naming what does not fit.
  func checkClassWeights(_ weights: [Double], outputSize V: Int) throws {
    switch self {
    case .crossEntropy: try ClassWeights.check(weights, classCount: V)
    case .binaryCrossEntropy:
      guard V == 1, weights.count == 2 else {
        throw ModelError("binary class weights need one output and two weights (classes 0 and 1)")
      }
      try ClassWeights.check(weights, classCount: 2)
    case .squaredError: throw ModelError("class weights apply to class labels, not real targets")
    }
  }

  /// Σ_r w_r L_elt(z^2_r, y_r) over N rows of V pre-activations z^2 = `logits`, and, when `scale` is given,
  /// scale · dL/dz^2 into `dLogits` (zero on rows of weight 0).
  ///
  /// Cross-entropy runs in the fused softmax cross-entropy kernel; binary cross-entropy is evaluated stably as
  /// softplus(z) − y z; squared error reads g = f_o(z^2) (kept in `activated`) and chains 2 (g − y) through f_o'.
  ///
  /// - Parameters:
  ///   - rows: N.
  ///   - logits: z^2, N × V.
  ///   - targets: y, as the loss needs them (validated by ``check(_:outputSize:outputActivation:)``).
  ///   - weights: w_r ≥ 0 per row, N: 0 for padding and missing targets, else 1, or the class weight
  ///     w_{y_r} of one target per sequence (cross-entropy and binary cross-entropy; squared error reads
  ///     w_r only as a mask).
  ///   - outputActivation: f_o (read by squared error).
  ///   - scale: the factor of dL/dz^2, or nil for the value alone.
  ///   - dLogits: receives scale · dL/dz^2 (N × V) when `scale` is given.
  ///   - activated: scratch of N × V for g (squared error).
  @_specialize(where Scalar == Float)
  func evaluate<Scalar: RecurScalar>(
    rows: Int, outputs V: Int, logits z: UnsafePointer<Scalar>, targets: LossTargetRows<Scalar>,
    weights: UnsafePointer<Scalar>, outputActivation: OutputActivation, scale: Scalar?,
    dLogits dz: UnsafeMutablePointer<Scalar>?, activated: Buffer<Scalar>
  ) -> Double {
    switch (self, targets) {
    case (.crossEntropy, .classes(let t)):
      return Scalar.softmaxCrossEntropy(
        rows: rows, vocab: V, logits: z, targets: t, weights: weights, scale: scale ?? 0, dlogits: dz)
    case (.binaryCrossEntropy, .values(let y)):
      var sum = 0.0
      for r in 0..<rows {
        let w = weights[r]
        for k in 0..<V {
          let i = r * V + k
          guard w != 0 else { dz?[i] = 0; continue }
          // −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y z, evaluated stably.
          let zi = Double(z[i]), yi = Double(y[i])
          let softplus = max(zi, 0) + Foundation.log1p(Foundation.exp(-abs(zi)))
          sum += Double(w) * (softplus - yi * zi)
          if let dz, let scale { dz[i] = scale * w * Scalar(1 / (1 + Foundation.exp(-zi)) - yi) }
        }
      }
      return sum
    case (.squaredError, .values(let y)):
      let g = activated.reserve(rows * V)
      let act = outputActivation.elementwise ?? .identity
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
      return sum
    default:
      preconditionFailure("loss and targets were checked")
    }
  }
}

/// Targets for the last step of each sequence only: the chapter's thought experiment in "Vanishing
/// gradients and gating mechanisms" ("only the output at the end of the sequence is incorrect"), and the
/// loss of the adding problem. Given to the one loss path
/// (``RecurrentNetwork/loss(for:finalTargets:loss:reduction:initialState:workspace:)`` and
/// ``RecurrentNetwork/accumulateGradient(for:finalTargets:loss:reduction:initialState:into:workspace:dropoutGenerator:recordFutureLossGradients:finalStateGradient:)``)
/// in place of the batch's per-step targets.
public enum FinalStepTargets<Scalar: RecurScalar>: Sendable, Equatable {
  /// A class index per sequence (cross-entropy), B.
  case classes([Int])
  /// V real values per sequence (squared error or binary cross-entropy), B × V.
  case values([Scalar], width: Int)
}

extension FinalStepTargets {
  /// The class weight w_{y_b} of each sequence's target (B), or nil without class weights: for class
  /// indices the index's weight, for binary labels (one value per sequence) the weight of class 1 when
  /// y_b > 0.5, else of class 0.
  func rowWeights(classWeights: [Double]?, outputs V: Int) -> [Double]? {
    guard let classWeights else { return nil }
    switch self {
    case .classes(let ids): return ids.map { classWeights[$0] }
    case .values(let y, _): return stride(from: 0, to: y.count, by: V).map { classWeights[Double(y[$0]) > 0.5 ? 1 : 0] }
    }
  }
}

extension RecurrentNetwork {
  /// The loss L_n(g_n, y_n) at each sequence's own last step, averaged over the B sequences, and, when
  /// `gradient` is given, its gradient with respect to every parameter, accumulated (`+=`).
  ///
  /// One pass of the one loss path with ``FinalStepTargets``: the network runs forward once, the head reads
  /// s_n, and BPTT carries ∂L_n/∂s_n = W^{oT} ∂L_n/∂z^2_n back through time (no other step has a loss). With
  /// `recordFutureLossGradients` the result holds ‖∂L_n/∂s_t‖ for t = 1 … n per layer: for t < n that is the
  /// chapter's δ^{s_t}; entry n is the loss gradient at the last step itself.
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
    guard gradient != nil || recordFutureLossGradients else {
      return (try self.loss(for: batch, finalTargets: targets, loss: loss, workspace: workspace).loss, nil)
    }
    var g = gradient ?? zeros()
    var noDropout: SeededGenerator? = nil
    let result = try accumulateGradient(
      for: batch, finalTargets: targets, loss: loss, into: &g, workspace: workspace, dropoutGenerator: &noDropout,
      recordFutureLossGradients: recordFutureLossGradients)
    if gradient != nil { gradient = g }
    return (result.loss, result.futureLossGradientNorms)
  }
}

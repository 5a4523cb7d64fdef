extension SequenceDataset {
  /// The split `recur fit` makes: the last `fraction` of the sequences (rounded) held out for validation, the
  /// rest for training; nothing is held out from fewer than 10 sequences.
  ///
  /// - Returns: the indices of the training and of the validation sequences, in file order.
  public func validationSplit(fraction: Double) -> (training: [Int], validation: [Int]) {
    let q = inputs.count
    let held = q >= 10 ? Int((Double(q) * fraction).rounded()) : 0
    return (Array(0..<(q - held)), Array((q - held)..<q))
  }

  /// The label of every step of the given sequences, in order, for class and binary targets (binary labels as
  /// 0 and 1); nil for value targets.
  public func stepLabels(_ indices: [Int]) -> [Int]? {
    guard kind != .values, hasTargets else { return nil }
    return indices.flatMap { i in targets[i].map { Int($0[0]) } }
  }
}

extension RecurrentNetwork where Scalar == Float {
  /// The label the network predicts at every step of the given sequences of `dataset`, each run alone from
  /// the zero state (``ClassificationMetrics/predictedLabel(_:activation:)``), in the order of
  /// ``SequenceDataset/stepLabels(_:)``.
  ///
  /// - Returns: the labels, or nil when the network's outputs are not class predictions.
  /// - Throws: when a sequence does not fit the network.
  public func predictedStepLabels(_ dataset: SequenceDataset, _ indices: [Int]) throws -> [Int]? {
    let V = configuration.outputSize, activation = configuration.outputActivation
    var labels: [Int] = []
    for i in indices {
      let g = try outputs(for: try dataset.batch([i])).outputs.scalars
      for t in dataset.inputs[i].indices {
        guard let label = ClassificationMetrics.predictedLabel(g[(t * V)..<(t * V + V)], activation: activation)
        else { return nil }
        labels.append(label)
      }
    }
    return labels
  }
}

/// Figures of merit for class predictions: the label an output predicts, and the fraction predicted right.
public enum ClassificationMetrics {
  /// The label that one output g_t predicts: the likeliest class of a softmax output (the first when two tie),
  /// 1 or 0 for a sigmoid output (1 when g > 0.5).
  ///
  /// - Parameters:
  ///   - output: g_t, V values for a softmax output, one for a sigmoid output.
  ///   - activation: f_o, ``OutputActivation/softmax`` or ``OutputActivation/sigmoid``.
  /// - Returns: the label, or nil for outputs that are not class predictions (identity, tanh) or are empty.
  public static func predictedLabel<C: Collection>(_ output: C, activation: OutputActivation) -> Int?
  where C.Element: BinaryFloatingPoint {
    switch activation {
    case .softmax:
      guard var best = output.first else { return nil }
      var label = 0
      for (k, g) in output.enumerated() where g > best {
        best = g
        label = k
      }
      return label
    case .sigmoid:
      return output.first.map { $0 > 0.5 ? 1 : 0 }
    case .identity, .tanh:
      return nil
    }
  }

  /// Accuracy: the fraction of positions where the predicted label equals the true one.
  ///
  /// - Parameters:
  ///   - predicted: the predicted labels.
  ///   - actual: the true labels, as many as `predicted`.
  /// - Returns: a number in [0, 1]; 0 when there are no labels.
  public static func accuracy<Label: Equatable>(predicted: [Label], actual: [Label]) -> Double {
    precondition(predicted.count == actual.count, "accuracy needs as many predictions as labels")
    let right = zip(predicted, actual).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    return Double(right) / Double(max(predicted.count, 1))
  }
}

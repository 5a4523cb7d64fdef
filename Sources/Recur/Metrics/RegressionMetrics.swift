import Foundation

/// How far real-valued predictions g are from targets y over n examples of V outputs each: mean squared
/// error, mean absolute error and the coefficient of determination R², as scikit-learn's
/// `mean_squared_error`, `mean_absolute_error` and `r2_score` (uniform average over outputs) compute them.
public struct RegressionMetrics: Sendable, Equatable {
  /// n, the number of examples (each of V outputs).
  public var count: Int
  /// V, the number of outputs per example.
  public var width: Int
  /// MSE = (1/(nV)) Σ_i Σ_k (g_ik − y_ik)².
  public var meanSquaredError: Double
  /// MAE = (1/(nV)) Σ_i Σ_k |g_ik − y_ik|.
  public var meanAbsoluteError: Double
  /// R²_k = 1 − Σ_i (g_ik − y_ik)² / Σ_i (y_ik − ȳ_k)² for each output k. An output whose targets are all
  /// equal scores 1 when predicted exactly and 0 otherwise (scikit-learn's `force_finite`).
  public var r2PerOutput: [Double]

  /// R² averaged over the V outputs with equal weights (scikit-learn's `multioutput="uniform_average"`).
  public var r2: Double { r2PerOutput.reduce(0, +) / Double(max(r2PerOutput.count, 1)) }

  /// The metrics of paired predictions and targets.
  ///
  /// - Parameters:
  ///   - predictions: n × V values, example-major (`predictions[i * V + k]`).
  ///   - targets: n × V values in the same order.
  ///   - width: V.
  /// - Throws: ``ModelError`` when the sizes disagree or there are no examples.
  public init<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(predictions: [A], targets: [B], width: Int) throws {
    guard width >= 1 else { throw ModelError("regression metrics need at least one output, got \(width)") }
    guard predictions.count == targets.count else {
      throw ModelError("\(predictions.count) predicted values but \(targets.count) target values")
    }
    guard !targets.isEmpty, targets.count % width == 0 else {
      throw ModelError("\(targets.count) values do not form examples of \(width) outputs")
    }
    let n = targets.count / width
    var squared = 0.0, absolute = 0.0
    var mean = [Double](repeating: 0, count: width)
    for i in 0..<n {
      for k in 0..<width { mean[k] += Double(targets[i * width + k]) / Double(n) }
    }
    var residual = [Double](repeating: 0, count: width), spread = [Double](repeating: 0, count: width)
    for i in 0..<n {
      for k in 0..<width {
        let y = Double(targets[i * width + k]), d = Double(predictions[i * width + k]) - y
        squared += d * d
        absolute += abs(d)
        residual[k] += d * d
        spread[k] += (y - mean[k]) * (y - mean[k])
      }
    }
    count = n
    self.width = width
    meanSquaredError = squared / Double(n * width)
    meanAbsoluteError = absolute / Double(n * width)
    r2PerOutput = (0..<width).map { k in
      spread[k] == 0 ? (residual[k] == 0 ? 1 : 0) : 1 - residual[k] / spread[k]
    }
  }

  /// One line: `MSE … MAE … R² … (n examples)`.
  public var summary: String {
    String(
      format: "MSE %.6g  MAE %.6g  R² %.4f  (%d examples of %d output%@)", meanSquaredError, meanAbsoluteError, r2,
      count, width, width == 1 ? "" : "s")
  }
}

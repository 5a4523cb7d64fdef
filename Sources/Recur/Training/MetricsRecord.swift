import Foundation

/// One line of a training run's metrics file, as the ``Trainer`` writes it (`Trainer/metricsURL`): one JSON
/// object per step with `step`, `epoch`, `time`, `loss`, `val_loss` (when validated), `lr`, `grad_norm` and
/// `tokens_per_s`.
public struct MetricsRecord: Sendable, Equatable, Decodable {
  /// The step number (1 for the first).
  public var step: Int
  /// The epoch the step's batch came from.
  public var epoch: Int?
  /// Seconds of training so far.
  public var time: Double?
  /// The step's training loss (nil when it was not finite).
  public var loss: Double?
  /// The validation loss, on the steps that computed one.
  public var validationLoss: Double?
  /// η_t.
  public var learningRate: Double?
  /// The gradient's global norm before clipping.
  public var gradientNorm: Double?
  /// Tokens per second of the step.
  public var tokensPerSecond: Double?

  /// A record; see each property.
  public init(
    step: Int, epoch: Int? = nil, time: Double? = nil, loss: Double?, validationLoss: Double? = nil,
    learningRate: Double? = nil, gradientNorm: Double? = nil, tokensPerSecond: Double? = nil
  ) {
    self.step = step
    self.epoch = epoch
    self.time = time
    self.loss = loss
    self.validationLoss = validationLoss
    self.learningRate = learningRate
    self.gradientNorm = gradientNorm
    self.tokensPerSecond = tokensPerSecond
  }

  enum CodingKeys: String, CodingKey {
    case step, epoch, time, loss
    case validationLoss = "val_loss"
    case learningRate = "lr"
    case gradientNorm = "grad_norm"
    case tokensPerSecond = "tokens_per_s"
  }

  /// The records of a metrics file's text, in file order. Lines that are not a whole record (a line cut short
  /// when a run was killed) are skipped.
  public static func records(in text: String) -> [MetricsRecord] {
    let decoder = JSONDecoder()
    return text.split(separator: "\n").compactMap { line in
      try? decoder.decode(MetricsRecord.self, from: Data(line.utf8))
    }
  }

  /// The records of a metrics file (see ``records(in:)``).
  ///
  /// - Throws: when the file cannot be read as UTF-8 text.
  public static func read(contentsOf url: URL) throws -> [MetricsRecord] {
    records(in: try String(contentsOf: url, encoding: .utf8))
  }
}

extension LinePlot {
  /// The training loss (the mean of each window of steps, at most 500 points) and the validation loss of a
  /// run's metrics, against the step.
  public static func trainingCurves(_ records: [MetricsRecord]) -> LinePlot {
    let training = records.compactMap { r in r.loss.map { (Double(r.step), $0) } }
    let validation = records.compactMap { r in r.validationLoss.map { (Double(r.step), $0) } }
    let window = max(1, training.count / 500)
    var meanSteps: [Double] = [], meanLosses: [Double] = []
    for i in stride(from: 0, to: training.count, by: window) {
      let j = min(i + window, training.count)
      meanSteps.append(training[j - 1].0)
      meanLosses.append(training[i..<j].reduce(0) { $0 + $1.1 } / Double(j - i))
    }
    return LinePlot(
      title: "Training and validation loss", xLabel: "step", yLabel: "cross-entropy (nats/char)",
      series: [
        .init(name: "training (mean of \(window) step\(window == 1 ? "" : "s"))", x: meanSteps, y: meanLosses),
        .init(name: "validation", x: validation.map(\.0), y: validation.map(\.1)),
      ])
  }
}

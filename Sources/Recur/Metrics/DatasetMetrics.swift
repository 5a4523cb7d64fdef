import Foundation

/// The figures of a trained network on labelled sequences: a confusion matrix for class and binary
/// targets, regression metrics for real targets.
public enum SequenceMetrics: Sendable, Equatable {
  /// Class labels (binary labels as classes 0 and 1): every labelled step, or every sequence when the data
  /// has one label per sequence.
  case classification(ConfusionMatrix)
  /// Real targets.
  case regression(RegressionMetrics)

  /// A printable report (``ConfusionMatrix/report(labels:)`` or ``RegressionMetrics/summary``).
  public var report: String {
    switch self {
    case .classification(let m): m.report()
    case .regression(let m): m.summary + "\n"
    }
  }
}

extension SequenceDataset {
  /// The metrics of `network` on the sequences at `indices` (all when nil), run in batches from the zero
  /// state: for per-step targets every step of every sequence counts, for one target per sequence every
  /// sequence (read by `readout`); the predicted class is the largest output (softmax), or output > 0.5
  /// (binary).
  ///
  /// - Throws: ``ModelError`` when the data has no targets or does not fit the network.
  public func metrics(
    of network: RecurrentNetwork<Float>, indices: [Int]? = nil, readout: SequenceReadout = .last
  ) throws -> SequenceMetrics {
    guard hasTargets else { throw ModelError("the data has no targets to measure against") }
    let indices = indices ?? Array(inputs.indices)
    guard !indices.isEmpty else { throw ModelError("no sequences to measure") }
    let V = network.configuration.outputSize
    var predicted: [[Float]] = [], wanted: [[Float]] = []
    let workspace = NetworkWorkspace<Float>()
    for start in stride(from: 0, to: indices.count, by: 64) {
      let part = Array(indices[start..<min(start + 64, indices.count)])
      let B = part.count
      if layout == .sequence {
        let g = try network.sequenceOutputs(for: try batch(part), readout: readout, workspace: workspace).scalars
        for (b, i) in part.enumerated() {
          predicted.append(Array(g[(b * V)..<(b * V + V)]))
          wanted.append(targets[i][0])
        }
        continue
      }
      let g = try network.outputs(for: try batch(part), workspace: workspace).outputs.scalars
      for (b, i) in part.enumerated() {
        for t in inputs[i].indices {
          predicted.append(Array(g[((t * B + b) * V)..<((t * B + b) * V + V)]))
          wanted.append(targets[i][t])
        }
      }
    }
    return try Self.metrics(predicted: predicted, targets: wanted, kind: kind, outputSize: V)
  }

  /// The mean loss of `network` on the sequences at `indices` (no class weights, no dropout, zero initial
  /// states): per unpadded step for per-step targets, per sequence (read by `readout`) for one target per
  /// sequence.
  public func meanLoss(
    of network: RecurrentNetwork<Float>, indices: [Int], readout: SequenceReadout = .last
  ) throws -> Double {
    let workspace = NetworkWorkspace<Float>()
    var sum = 0.0, count = 0
    for start in stride(from: 0, to: indices.count, by: 64) {
      let part = Array(indices[start..<min(start + 64, indices.count)])
      let result =
        layout == .sequence
        ? try network.sequenceLoss(
          for: try batch(part), targets: sequenceTargets(part), readout: readout, loss: loss, workspace: workspace)
        : try network.loss(for: try batch(part), loss: loss, reduction: .sum, workspace: workspace)
      sum += result.elementLossSum
      count += result.elementCount
    }
    return sum / Double(max(count, 1))
  }

  /// The metrics of outputs g (one row of V per example) against targets (one row per example: V values,
  /// a class label, or a 0/1 label).
  static func metrics(
    predicted: [[Float]], targets: [[Float]], kind: TargetKind, outputSize V: Int
  ) throws -> SequenceMetrics {
    switch kind {
    case .values:
      return .regression(
        try RegressionMetrics(predictions: predicted.flatMap { $0 }, targets: targets.flatMap { $0 }, width: V))
    case .classes:
      var m = ConfusionMatrix(classCount: V)
      for (g, y) in zip(predicted, targets) {
        let label = Int(y[0])
        guard (0..<V).contains(label) else {
          throw ModelError("target class \(label) is outside the \(V) outputs of the model")
        }
        m.add(target: label, prediction: g.indices.max { g[$0] < g[$1] }!)
      }
      return .classification(m)
    case .binary:
      var m = ConfusionMatrix(classCount: 2)
      for (g, y) in zip(predicted, targets) { m.add(target: y[0] > 0.5 ? 1 : 0, prediction: g[0] > 0.5 ? 1 : 0) }
      return .classification(m)
    }
  }
}

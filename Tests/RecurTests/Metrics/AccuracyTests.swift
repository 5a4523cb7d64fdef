import Testing

import Recur

/// The figures of merit for class predictions.
@Suite("Metrics/accuracy")
struct AccuracyTests {
  @Test("accuracy: labels from softmax and sigmoid outputs, the fraction right")
  func accuracy() {
    #expect(ClassificationMetrics.predictedLabel([0.1, 0.7, 0.2] as [Float], activation: .softmax) == 1)
    #expect(ClassificationMetrics.predictedLabel([0.4, 0.4, 0.2] as [Float], activation: .softmax) == 0)  // first of a tie
    #expect(ClassificationMetrics.predictedLabel([0.51] as [Double], activation: .sigmoid) == 1)
    #expect(ClassificationMetrics.predictedLabel([0.5] as [Float], activation: .sigmoid) == 0)
    #expect(ClassificationMetrics.predictedLabel([0.5] as [Float], activation: .identity) == nil)
    #expect(ClassificationMetrics.accuracy(predicted: [1, 0, 2, 2], actual: [1, 1, 2, 0]) == 0.5)
    #expect(ClassificationMetrics.accuracy(predicted: [Int](), actual: []) == 0)
  }
}

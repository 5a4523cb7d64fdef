import Foundation
import Recur
import Testing

@Suite("Kernels/shape-checked wrappers")
struct KernelWrapperTests {
  @Test("matmul multiplies small matrices in both precisions, with transposes")
  func matmul() throws {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor<Float>(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
    #expect(try Kernels.matmul(a, b).scalars == [58, 64, 139, 154])
    #expect(try Kernels.matmul(b, transposeA: true, a, transposeB: true).scalars == [58, 139, 64, 154])
    let ad = a.converted(to: Double.self), bd = b.converted(to: Double.self)
    #expect(try Kernels.matmul(ad, bd).scalars == [58, 64, 139, 154])
  }

  @Test("Mismatched shapes throw a one-line error")
  func shapeErrors() {
    let a = Tensor<Float>(shape: [2, 3])
    #expect(throws: KernelShapeError.self) { try Kernels.matmul(a, a) }
    var c = Tensor<Float>(shape: [3, 3])
    #expect(throws: KernelShapeError.self) { try Kernels.gemm(a, a, transposeB: true, into: &c) }
    #expect(throws: KernelShapeError.self) { try Kernels.matmul(Tensor<Float>(shape: [6]), a) }
    var y = Tensor<Float>(shape: [3])
    #expect(throws: KernelShapeError.self) { try Kernels.gemv(a, Tensor<Float>(shape: [2]), into: &y) }
  }

  @Test("gemv, bias rows and column sums")
  func vectorHelpers() throws {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    var y = Tensor<Float>(shape: [2], scalars: [1, 1])
    try Kernels.gemv(a, Tensor(shape: [3], scalars: [1, 0, -1]), alpha: 2, beta: 3, into: &y)
    #expect(y.scalars == [-1, -1])
    var yt = Tensor<Float>(shape: [3])
    try Kernels.gemv(a, transposeA: true, Tensor(shape: [2], scalars: [1, 1]), into: &yt)
    #expect(yt.scalars == [5, 7, 9])

    var c = a
    try Kernels.addRowVector(Tensor(shape: [3], scalars: [10, 20, 30]), to: &c)
    #expect(c.scalars == [11, 22, 33, 14, 25, 36])
    var sums = Tensor<Float>(shape: [3], scalars: [1, 1, 1])
    try Kernels.sumRows(a, into: &sums)
    #expect(sums.scalars == [6, 8, 10])
    #expect(throws: KernelShapeError.self) { try Kernels.sumRows(a, into: &y) }
  }

  @Test("Softmax cross-entropy skips padded rows and returns the gradient")
  func crossEntropy() throws {
    let logits = Tensor<Double>(shape: [2, 3], scalars: [0, 0, 0, 5, 1, 2])
    var gradient: Tensor<Double>? = Tensor(shape: [0])
    let loss = try Kernels.softmaxCrossEntropy(logits: logits, targets: [1, -1], gradient: &gradient)
    #expect(abs(loss - log(3.0)) < 1e-12)
    #expect(gradient?.shape == [2, 3])
    let expected: [Double] = [1.0 / 3, -2.0 / 3, 1.0 / 3, 0, 0, 0]
    for (g, e) in zip(gradient!.scalars, expected) { #expect(abs(g - e) < 1e-12) }
    var none: Tensor<Double>? = nil
    #expect(throws: KernelShapeError.self) {
      try Kernels.softmaxCrossEntropy(logits: logits, targets: [3, 0], gradient: &none)
    }
    let probabilities = try Kernels.softmax(logits)
    #expect(abs(probabilities.scalars[0..<3].reduce(0, +) - 1) < 1e-12)
  }
}

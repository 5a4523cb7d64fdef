import Foundation
import Recur
import Testing
import _RecurKernels

private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// The largest relative error of `kernel` over `inputs` against a Double reference.
private func maxRelativeError(
  _ inputs: [Float], _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
  reference: (Double) -> Double
) -> (error: Double, at: Float) {
  var outputs = [Float](repeating: 0, count: inputs.count)
  inputs.withUnsafeBufferPointer { x in
    outputs.withUnsafeMutableBufferPointer { y in kernel(x.baseAddress!, y.baseAddress!, inputs.count) }
  }
  var worst = (error: 0.0, at: Float(0))
  for (x, y) in zip(inputs, outputs) {
    let exact = reference(Double(x))
    let error = abs(Double(y) - exact) / abs(exact)
    if error > worst.error { worst = (error, x) }
  }
  return worst
}

/// `count` evenly spaced points over [lower, upper]: fine enough to cross every branch of the polynomials
/// and every binade of the outputs.
private func grid(_ lower: Float, _ upper: Float, count: Int = 200_001) -> [Float] {
  (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
}

@Suite("Kernels/accuracy and scalar math")
struct KernelMathTests {
  // Measured on x86_64 (AVX2+FMA) over these grids, against Double: sigmoid 1.7e-7 (libm float twin
  // 1.7e-7), tanh 1.5e-7 (libm twin 1.6e-7), exp 1.7e-7. The bound below is the documented guarantee.
  @Test("Vectorized sigmoid and tanh are within 1e-6 relative error of exact values")
  func activationAccuracy() {
    expectVectorKernelsDispatched()
    let sigmoidInputs = grid(-87, 87) + grid(-1e-3, 1e-3, count: 2001)
    let fastSigmoid = maxRelativeError(
      sigmoidInputs, { recur_activate_f32($2, RECUR_ACT_SIGMOID, $0, $1) }, reference: sigmoid)
    let libmSigmoid = maxRelativeError(
      sigmoidInputs, { recur_activate_f32_scalar($2, RECUR_ACT_SIGMOID, $0, $1) }, reference: sigmoid)
    #expect(fastSigmoid.error <= 1e-6, "sigmoid worst at \(fastSigmoid.at)")
    #expect(libmSigmoid.error <= 1e-6, "scalar sigmoid worst at \(libmSigmoid.at)")

    let tanhInputs = (grid(-20, 20) + grid(-1, 1) + grid(-1e-4, 1e-4, count: 2001)).filter { $0 != 0 }
    let fastTanh = maxRelativeError(
      tanhInputs, { recur_activate_f32($2, RECUR_ACT_TANH, $0, $1) }, reference: tanh)
    let libmTanh = maxRelativeError(
      tanhInputs, { recur_activate_f32_scalar($2, RECUR_ACT_TANH, $0, $1) }, reference: tanh)
    #expect(fastTanh.error <= 1e-6, "tanh worst at \(fastTanh.at)")
    #expect(libmTanh.error <= 1e-6, "scalar tanh worst at \(libmTanh.at)")
  }

  @Test("Vectorized exp (through softmax) is within 1e-6 relative error")
  func expAccuracy() {
    expectVectorKernelsDispatched()
    // softmax([x, 0]) = [e^x / (1 + e^x), 1 / (1 + e^x)]: the first entry carries the error of exp(x - max).
    var worst = 0.0
    for x in grid(-80, 0, count: 20_001) {
      var probabilities: [Float] = [0, 0]
      recur_softmax_f32(1, 2, [x, 0], &probabilities)
      let exact = exp(Double(x)) / (1 + exp(Double(x)))
      worst = max(worst, abs(Double(probabilities[0]) - exact) / exact)
    }
    #expect(worst <= 1e-6)
  }

  @Test("Scalar LSTM step equals the formulas on one element")
  func lstmByHand() {
    let xp: [Double] = [0.3, -0.2, 0.5, 1.1]  // i, f, g, o
    let hp: [Double] = [0.1, 0.4, -0.9, -0.3]
    let cPrev = 0.7
    var c = [0.0], h = [0.0], gates = [Double](repeating: 0, count: 4)
    recur_lstm_forward_f64(1, 1, xp, hp, [cPrev], &c, &h, &gates)
    let i = sigmoid(0.4), f = sigmoid(0.2), g = tanh(-0.4), o = sigmoid(0.8)
    #expect(abs(gates[0] - i) < 1e-14 && abs(gates[1] - f) < 1e-14)
    #expect(abs(gates[2] - g) < 1e-14 && abs(gates[3] - o) < 1e-14)
    #expect(abs(c[0] - (f * cPrev + i * g)) < 1e-14)
    #expect(abs(h[0] - o * tanh(f * cPrev + i * g)) < 1e-14)

    // Backward: finite differences of L = dh * h + dc * c through the pre-activations.
    let dh = 0.6, dc = -0.25
    var dgates = [Double](repeating: 0, count: 4), dcPrev = [0.0]
    recur_lstm_backward_f64(1, 1, gates, [cPrev], c, [dh], [dc], &dgates, &dcPrev)
    func loss(_ pre: [Double], _ cp: Double) -> Double {
      var c = [0.0], h = [0.0], gates = [Double](repeating: 0, count: 4)
      recur_lstm_forward_f64(1, 1, pre, [0, 0, 0, 0], [cp], &c, &h, &gates)
      return dh * h[0] + dc * c[0]
    }
    let pre = zip(xp, hp).map(+)
    let step = 1e-6
    for gate in 0..<4 {
      var plus = pre, minus = pre
      plus[gate] += step
      minus[gate] -= step
      let numeric = (loss(plus, cPrev) - loss(minus, cPrev)) / (2 * step)
      #expect(abs(dgates[gate] - numeric) < 1e-8, "gate \(gate)")
    }
    let numeric = (loss(pre, cPrev + step) - loss(pre, cPrev - step)) / (2 * step)
    #expect(abs(dcPrev[0] - numeric) < 1e-8)
  }

  @Test("Scalar GRU and gated RNN steps equal the formulas on one element")
  func gruAndGatedByHand() {
    let xp: [Double] = [0.3, -0.2, 0.5]  // r, z, n
    let hp: [Double] = [0.1, 0.4, -0.9]
    let hPrev = -0.35
    var h = [0.0], cache = [Double](repeating: 0, count: 4)
    recur_gru_forward_f64(1, 1, xp, hp, [hPrev], &h, &cache)
    let r = sigmoid(0.4), z = sigmoid(0.2), n = tanh(0.5 + r * -0.9)
    #expect(abs(h[0] - ((1 - z) * n + z * hPrev)) < 1e-14)
    #expect(abs(cache[0] - r) < 1e-14 && abs(cache[1] - z) < 1e-14 && abs(cache[3] + 0.9) < 1e-14)

    var gated = [0.0], gatedCache = [0.0, 0.0]
    recur_gated_forward_f64(1, 1, RECUR_ACT_TANH, [0.3, -0.2], [0.1, 0.4], [hPrev], &gated, &gatedCache)
    let gate = sigmoid(0.4), candidate = tanh(0.2)
    #expect(abs(gated[0] - ((1 - gate) * hPrev + gate * candidate)) < 1e-14)
  }

  @Test("Scalar softmax cross-entropy and Adam equal the formulas")
  func lossAndOptimizerByHand() {
    let logits: [Double] = [1.5, -0.5, 0.25]
    var dlogits = [Double](repeating: 0, count: 3)
    let loss = recur_softmax_xent_f64(1, 3, logits, [2], [2.0], 0.5, &dlogits)
    let sum = logits.map { exp($0) }.reduce(0, +)
    #expect(abs(loss - 2 * (log(sum) - 0.25)) < 1e-12)
    for j in 0..<3 {
      let p = exp(logits[j]) / sum
      #expect(abs(dlogits[j] - 0.5 * 2 * (p - (j == 2 ? 1 : 0))) < 1e-12)
    }

    var param = [0.5], m = [0.1], v = [0.02]
    recur_adam_f64(1, &param, [0.3], &m, &v, 0.01, 0.9, 0.999, 1e-8, 0.1, 1, 1 - 0.81, 1 - 0.998001)
    let decayed = 0.5 - 0.01 * 0.1 * 0.5
    let mNew = 0.9 * 0.1 + 0.1 * 0.3, vNew = 0.999 * 0.02 + 0.001 * 0.09
    let expected = decayed - 0.01 * (mNew / 0.19) / ((vNew / (1 - 0.998001)).squareRoot() + 1e-8)
    #expect(abs(m[0] - mNew) < 1e-15 && abs(v[0] - vNew) < 1e-15)
    #expect(abs(param[0] - expected) < 1e-14)
  }
}

import Recur
import Testing
import _RecurKernels

/// Runs a kernel twice on copies of the same outputs (the vectorized version and its scalar twin) and
/// checks that every output agrees within `tolerance` (relative Frobenius error).
private func expectTwinsAgree(
  _ name: String, outputs: [[Float]], tolerance: Double = 1e-5,
  _ kernel: (_ scalar: Bool, _ out: [UnsafeMutablePointer<Float>]) -> Void
) {
  func run(scalar: Bool) -> [[Float]] {
    let buffers = outputs.map { values in
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, values.count))
      _ = buffer.initialize(from: values)
      return buffer
    }
    defer { buffers.forEach { $0.deallocate() } }
    kernel(scalar, buffers.map { $0.baseAddress! })
    return zip(buffers, outputs).map { Array($0.0.prefix($0.1.count)) }
  }
  expectVectorKernelsDispatched()
  let fast = run(scalar: false)
  let scalar = run(scalar: true)
  for index in outputs.indices {
    #expect(
      relativeFrobeniusError(fast[index], scalar[index]) <= tolerance, "\(name): output \(index)")
    let finite = fast[index].allSatisfy { $0.isFinite }
    #expect(finite, "\(name): output \(index) is finite")
  }
}

/// (batch, hidden) pairs in which every size of `kernelSizes` appears as the hidden size.
private let cellShapes = kernelSizes.enumerated().map { index, hidden in
  (batch: [1, 2, 3][index % 3], hidden: hidden)
}

@Suite("Kernels/element-wise twins")
struct ElementwiseKernelTests {
  @Test("Activations and their derivatives match the scalar twins", arguments: Activation.allCases)
  func activations(_ activation: Activation) {
    for n in kernelSizes {
      let x = kernelRandom(n, seed: UInt64(n), in: -9...9)
      expectTwinsAgree("activate \(activation) n=\(n)", outputs: [[Float](repeating: 0, count: n)]) { scalar, out in
        let act = activationKernel(activation)
        if scalar { recur_activate_f32_scalar(n, act, x, out[0]) } else { recur_activate_f32(n, act, x, out[0]) }
      }
      var y = [Float](repeating: 0, count: n)
      recur_activate_f32_scalar(n, activationKernel(activation), x, &y)
      let dy = kernelRandom(n, seed: UInt64(n + 1))
      expectTwinsAgree("backward \(activation) n=\(n)", outputs: [[Float](repeating: 0, count: n)]) { scalar, out in
        let act = activationKernel(activation)
        if scalar {
          recur_activate_backward_f32_scalar(n, act, y, dy, out[0])
        } else {
          recur_activate_backward_f32(n, act, y, dy, out[0])
        }
      }
    }
  }

  @Test("Row helpers match the scalar twins")
  func rowHelpers() {
    for (index, width) in kernelSizes.enumerated() {
      let rows = kernelSizes[(index * 4 + 5) % kernelSizes.count]
      let ld = width + 3
      let a = kernelRandom(rows * ld, seed: UInt64(index))
      let bias = kernelRandom(width, seed: UInt64(index + 50))
      for beta: Float in [0, 1] {
        expectTwinsAgree("add_row_vector \(rows)x\(width) beta \(beta)", outputs: [a]) { scalar, out in
          if scalar {
            recur_add_row_vector_f32_scalar(rows, width, bias, beta, out[0], ld)
          } else {
            recur_add_row_vector_f32(rows, width, bias, beta, out[0], ld)
          }
        }
      }
      expectTwinsAgree("sum_rows \(rows)x\(width)", outputs: [bias]) { scalar, out in
        if scalar {
          recur_sum_rows_f32_scalar(rows, width, a, ld, out[0])
        } else {
          recur_sum_rows_f32(rows, width, a, ld, out[0])
        }
      }
    }
  }

  @Test("Chapter RNN and gated RNN steps match the scalar twins")
  func chapterCells() {
    for (batch, hidden) in cellShapes {
      let n = batch * hidden
      let xp = kernelRandom(2 * n, seed: UInt64(hidden), in: -4...4)
      let hp = kernelRandom(2 * n, seed: UInt64(hidden + 1), in: -4...4)
      let hPrev = kernelRandom(n, seed: UInt64(hidden + 2))
      let dh = kernelRandom(n, seed: UInt64(hidden + 3))
      for activation in Activation.allCases {
        let act = activationKernel(activation)
        let tag = "\(activation) B=\(batch) H=\(hidden)"
        expectTwinsAgree("rnn forward \(tag)", outputs: [[Float](repeating: 0, count: n)]) { scalar, out in
          if scalar {
            recur_rnn_forward_f32_scalar(batch, hidden, act, xp, hp, out[0])
          } else {
            recur_rnn_forward_f32(batch, hidden, act, xp, hp, out[0])
          }
        }
        var h = [Float](repeating: 0, count: n)
        recur_rnn_forward_f32_scalar(batch, hidden, act, xp, hp, &h)
        expectTwinsAgree("rnn backward \(tag)", outputs: [[Float](repeating: 0, count: n)]) { scalar, out in
          if scalar {
            recur_rnn_backward_f32_scalar(batch, hidden, act, h, dh, out[0])
          } else {
            recur_rnn_backward_f32(batch, hidden, act, h, dh, out[0])
          }
        }
        let zeros = [[Float](repeating: 0, count: n), [Float](repeating: 0, count: 2 * n)]
        expectTwinsAgree("gated forward \(tag)", outputs: zeros) { scalar, out in
          if scalar {
            recur_gated_forward_f32_scalar(batch, hidden, act, xp, hp, hPrev, out[0], out[1])
          } else {
            recur_gated_forward_f32(batch, hidden, act, xp, hp, hPrev, out[0], out[1])
          }
        }
        var gatedH = [Float](repeating: 0, count: n)
        var cache = [Float](repeating: 0, count: 2 * n)
        recur_gated_forward_f32_scalar(batch, hidden, act, xp, hp, hPrev, &gatedH, &cache)
        let grads = [[Float](repeating: 0, count: 2 * n), [Float](repeating: 0, count: n)]
        expectTwinsAgree("gated backward \(tag)", outputs: grads) { scalar, out in
          if scalar {
            recur_gated_backward_f32_scalar(batch, hidden, act, cache, hPrev, dh, out[0], out[1])
          } else {
            recur_gated_backward_f32(batch, hidden, act, cache, hPrev, dh, out[0], out[1])
          }
        }
      }
    }
  }

  @Test("LSTM step forward and backward match the scalar twins")
  func lstm() {
    for (batch, hidden) in cellShapes {
      let n = batch * hidden
      let xp = kernelRandom(4 * n, seed: UInt64(hidden), in: -4...4)
      let hp = kernelRandom(4 * n, seed: UInt64(hidden + 1), in: -4...4)
      let cPrev = kernelRandom(n, seed: UInt64(hidden + 2), in: -2...2)
      let dh = kernelRandom(n, seed: UInt64(hidden + 3))
      let dc = kernelRandom(n, seed: UInt64(hidden + 4))
      let tag = "B=\(batch) H=\(hidden)"
      let forwardOutputs = [n, n, 4 * n].map { [Float](repeating: 0, count: $0) }
      expectTwinsAgree("lstm forward \(tag)", outputs: forwardOutputs) { scalar, out in
        if scalar {
          recur_lstm_forward_f32_scalar(batch, hidden, xp, hp, cPrev, out[0], out[1], out[2])
        } else {
          recur_lstm_forward_f32(batch, hidden, xp, hp, cPrev, out[0], out[1], out[2])
        }
      }
      var c = [Float](repeating: 0, count: n)
      var h = c
      var gates = [Float](repeating: 0, count: 4 * n)
      recur_lstm_forward_f32_scalar(batch, hidden, xp, hp, cPrev, &c, &h, &gates)
      for futureGradient in [dc, nil] {
        let backwardOutputs = [4 * n, n].map { [Float](repeating: 0, count: $0) }
        expectTwinsAgree("lstm backward \(tag) dc \(futureGradient != nil)", outputs: backwardOutputs) {
          scalar, out in
          if scalar {
            recur_lstm_backward_f32_scalar(batch, hidden, gates, cPrev, c, dh, futureGradient, out[0], out[1])
          } else {
            recur_lstm_backward_f32(batch, hidden, gates, cPrev, c, dh, futureGradient, out[0], out[1])
          }
        }
      }
    }
  }

  @Test("GRU step forward and backward match the scalar twins")
  func gru() {
    for (batch, hidden) in cellShapes {
      let n = batch * hidden
      let xp = kernelRandom(3 * n, seed: UInt64(hidden), in: -4...4)
      let hp = kernelRandom(3 * n, seed: UInt64(hidden + 1), in: -4...4)
      let hPrev = kernelRandom(n, seed: UInt64(hidden + 2))
      let dh = kernelRandom(n, seed: UInt64(hidden + 3))
      let tag = "B=\(batch) H=\(hidden)"
      expectTwinsAgree("gru forward \(tag)", outputs: [n, 4 * n].map { [Float](repeating: 0, count: $0) }) {
        scalar, out in
        if scalar {
          recur_gru_forward_f32_scalar(batch, hidden, xp, hp, hPrev, out[0], out[1])
        } else {
          recur_gru_forward_f32(batch, hidden, xp, hp, hPrev, out[0], out[1])
        }
      }
      var h = [Float](repeating: 0, count: n)
      var cache = [Float](repeating: 0, count: 4 * n)
      recur_gru_forward_f32_scalar(batch, hidden, xp, hp, hPrev, &h, &cache)
      let outputs = [3 * n, 3 * n, n].map { [Float](repeating: 0, count: $0) }
      expectTwinsAgree("gru backward \(tag)", outputs: outputs) { scalar, out in
        if scalar {
          recur_gru_backward_f32_scalar(batch, hidden, cache, hPrev, dh, out[0], out[1], out[2])
        } else {
          recur_gru_backward_f32(batch, hidden, cache, hPrev, dh, out[0], out[1], out[2])
        }
      }
    }
  }

  @Test("Softmax and softmax cross-entropy match the scalar twins")
  func softmax() {
    for (index, vocab) in kernelSizes.enumerated() {
      let rows = [1, 2, 5][index % 3]
      let logits = kernelRandom(rows * vocab, seed: UInt64(vocab), in: -30...30)
      expectTwinsAgree("softmax V=\(vocab)", outputs: [[Float](repeating: 0, count: rows * vocab)]) { scalar, out in
        if scalar {
          recur_softmax_f32_scalar(rows, vocab, logits, out[0])
        } else {
          recur_softmax_f32(rows, vocab, logits, out[0])
        }
      }
      // Row 0 targets the last class, row 1 is skipped (target -1), the others are weighted.
      let targets = (0..<rows).map { Int32($0 == 1 ? -1 : (vocab - 1 - $0 * 3 % vocab)) }
      let weights = (0..<rows).map { Float($0 + 1) * 0.5 }
      for weighted in [false, true] {
        var losses: [Double] = []
        expectTwinsAgree("xent V=\(vocab) weighted \(weighted)", outputs: [[Float](repeating: 1, count: rows * vocab)]) {
          scalar, out in
          let w: UnsafePointer<Float>? = nil
          let loss =
            weighted
            ? (scalar
              ? recur_softmax_xent_f32_scalar(rows, vocab, logits, targets, weights, 0.25, out[0])
              : recur_softmax_xent_f32(rows, vocab, logits, targets, weights, 0.25, out[0]))
            : (scalar
              ? recur_softmax_xent_f32_scalar(rows, vocab, logits, targets, w, 0.25, out[0])
              : recur_softmax_xent_f32(rows, vocab, logits, targets, w, 0.25, out[0]))
          losses.append(loss)
        }
        #expect(abs(losses[0] - losses[1]) <= 1e-5 * max(1, abs(losses[1])), "xent loss V=\(vocab)")
      }
    }
  }

  @Test("Adam and AdamW steps match the scalar twins")
  func adam() {
    for n in kernelSizes {
      let param = kernelRandom(n, seed: UInt64(n))
      let grad = kernelRandom(n, seed: UInt64(n + 1))
      let m = kernelRandom(n, seed: UInt64(n + 2), in: -0.1...0.1)
      let v = kernelRandom(n, seed: UInt64(n + 3), in: 0...0.01)
      for decoupled: Int32 in [0, 1] {
        expectTwinsAgree("adam n=\(n) decoupled \(decoupled)", outputs: [param, m, v]) { scalar, out in
          let step = scalar ? recur_adam_f32_scalar : recur_adam_f32
          step(n, out[0], grad, out[1], out[2], 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, 0.19, 0.003)
        }
      }
    }
  }

  @Test("the weight average's lerp: vector = scalar twin, bit for bit (both fused), on both sides of w = ½")
  func lerp() {
    for n in kernelSizes {
      let average = kernelRandom(n, seed: UInt64(n))
      let value = kernelRandom(n, seed: UInt64(n + 1))
      for weight: Float in [0.001, 0.1, 1.0 / 3, 0.5, 0.75] {
        expectTwinsAgree("lerp n=\(n) w=\(weight)", outputs: [average], tolerance: 0) { scalar, out in
          (scalar ? recur_lerp_f32_scalar : recur_lerp_f32)(n, out[0], value, weight)
        }
      }
    }
  }
}

@Suite("Kernels/shared dropout mask")
struct SharedMaskKernelTests {
  /// The mask and M ⊙ W of `recur_shared_mask_f32` (vector or scalar twin) for `count` elements.
  static func run(scalar: Bool, count n: Int, seed: UInt64, keep: Double, weight: [Float]?) -> (mask: [Float], dropped: [Float]) {
    var mask = [Float](repeating: -7, count: n), dropped = [Float](repeating: -7, count: n)
    let kernel = scalar ? recur_shared_mask_f32_scalar : recur_shared_mask_f32
    if let weight { kernel(n, seed, keep, weight, &mask, &dropped) } else { kernel(n, seed, keep, nil, &mask, nil) }
    return (mask, dropped)
  }

  @Test("vector = scalar twin bit for bit, mask and M ⊙ W, with and without the weight; Double decides the same elements")
  func twins() {
    expectVectorKernelsDispatched()
    for n in kernelSizes + [1000] {
      let weight = kernelRandom(n, seed: UInt64(n))
      for keep in [0.8, 0.6, 0.5, 1.0 / 3, 1.0, 0.0] {
        let seed = 0x9E37_79B9_7F4A_7C15 &* UInt64(n + 1)
        for w in [weight, nil] {
          let fast = Self.run(scalar: false, count: n, seed: seed, keep: keep, weight: w)
          let twin = Self.run(scalar: true, count: n, seed: seed, keep: keep, weight: w)
          #expect(fast.mask.map(\.bitPattern) == twin.mask.map(\.bitPattern), "mask n=\(n) keep=\(keep)")
          #expect(fast.dropped.map(\.bitPattern) == twin.dropped.map(\.bitPattern), "M ⊙ W n=\(n) keep=\(keep)")
        }
        let fast = Self.run(scalar: false, count: n, seed: seed, keep: keep, weight: weight)
        let w64 = weight.map(Double.init)
        var mask = [Double](repeating: -7, count: n), dropped = [Double](repeating: -7, count: n)
        recur_shared_mask_f64(n, seed, keep, w64, &mask, &dropped)
        #expect(mask.map { $0 != 0 } == fast.mask.map { $0 != 0 }, "f64 decisions n=\(n) keep=\(keep)")
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / keep } && dropped == zip(w64, mask).map { $0 * $1 })
      }
    }
  }

  @Test("a large mask keeps its share 1 − p (binomial bound, 6 standard deviations)", arguments: [0.1, 0.3, 0.5, 0.9])
  func keptShare(p: Double) {
    let n = 1 << 20
    var mask = [Float](repeating: -1, count: n)
    recur_shared_mask_f32(n, 0xC0FF_EE00_1234_5678 &+ UInt64(p * 1000), 1 - p, nil, &mask, nil)
    let kept = Double(mask.filter { $0 != 0 }.count), sd = (Double(n) * p * (1 - p)).squareRoot()
    #expect(abs(kept - Double(n) * (1 - p)) <= 6 * sd, "\(kept) of \(n) kept, expected \(Double(n) * (1 - p)) ± \(6 * sd)")
    #expect(mask.allSatisfy { $0 == 0 || $0 == Float(1 / (1 - p)) })
  }
}

/// The C activation code of a Swift activation.
func activationKernel(_ activation: Activation) -> recur_activation {
  switch activation {
  case .identity: RECUR_ACT_IDENTITY
  case .tanh: RECUR_ACT_TANH
  case .sigmoid: RECUR_ACT_SIGMOID
  case .relu: RECUR_ACT_RELU
  }
}

import Recur
import Testing
import _RecurKernels

@Suite("Kernels/dispatch")
struct DispatchTests {
  @Test("The dispatched kernels are the CPU's vector ones, or the scalar ones RECUR_ISA=scalar forces")
  func dispatchedInstructionSet() {
    expectVectorKernelsDispatched()
    let active = recur_active_isa()
    #expect(recur_isa_available(active) != 0)
    #expect(recur_isa_available(RECUR_ISA_SCALAR) != 0)
    let name = active == RECUR_ISA_AVX2 ? "avx2+fma" : active == RECUR_ISA_NEON ? "neon" : "scalar"
    #expect(Compute.instructionSet == name)
  }

  @Test("The kernels' own CPU check agrees with what the operating system reports")
  func availabilityAgreesWithTheSystem() {
    guard let cpu = cpuVectorISA() else { return }
    #expect((recur_isa_available(RECUR_ISA_AVX2) != 0) == (cpu == RECUR_ISA_AVX2))
    #expect((recur_isa_available(RECUR_ISA_NEON) != 0) == (cpu == RECUR_ISA_NEON))
  }

  /// Regression: AVX2's exp clamped NaN to its lower bound, so sigmoid(NaN) was 1.2e-38 and a NaN logit
  /// vanished from the softmax; the NEON kernels, run under emulation, and the scalar twins give NaN.
  @Test("A NaN input stays NaN through the vectorized sigmoid, softmax and cross-entropy")
  func nanPropagates() {
    expectVectorKernelsDispatched()
    var logits: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    logits[4] = .nan
    var y = [Float](repeating: 0, count: logits.count)
    recur_activate_f32(logits.count, RECUR_ACT_SIGMOID, logits, &y)
    #expect(y[4].isNaN)
    #expect(y.enumerated().allSatisfy { $0.offset == 4 || !$0.element.isNaN })
    recur_softmax_f32(1, logits.count, logits, &y)
    #expect(y.allSatisfy { $0.isNaN })
    let loss = recur_softmax_xent_f32(1, logits.count, logits, [2], nil, 1, &y)
    #expect(loss.isNaN)
    #expect(y.allSatisfy { $0.isNaN })
  }
}

import Foundation
import Recur
import Testing
import _RecurKernels

/// The awkward sizes every vectorized kernel is tested at (around the 8-lane vector and the 6 × 16 tile).
let kernelSizes = [1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 257]

/// Uniform random floats in [lower, upper), reproducible from `seed`.
func kernelRandom(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  return (0..<count).map { _ in
    range.lowerBound + Float(generator.nextUnit()) * (range.upperBound - range.lowerBound)
  }
}

/// ‖candidate − reference‖ / ‖reference‖ (Frobenius norms, in Double); 0 when both are zero.
func relativeFrobeniusError<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ candidate: [A], _ reference: [B])
  -> Double
{
  precondition(candidate.count == reference.count)
  var difference = 0.0
  var norm = 0.0
  for (x, y) in zip(candidate, reference) {
    let d = Double(x) - Double(y)
    difference += d * d
    norm += Double(y) * Double(y)
  }
  if norm == 0 { return difference.squareRoot() }
  return (difference / norm).squareRoot()
}

// MARK: - Which instruction set ran

/// The vector instruction set this CPU has, read from the operating system rather than from the kernels'
/// own check: the `avx2` and `fma` flags of /proc/cpuinfo on x86_64 Linux, `asimd` on arm64 Linux, and
/// NEON on Apple's arm64 platforms (every Apple arm64 core has it). `nil` where it cannot be told.
func cpuVectorISA() -> recur_isa? {
  #if arch(arm64) && canImport(Darwin)
    return RECUR_ISA_NEON
  #elseif os(Linux)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    let words = Set(info.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
    #if arch(x86_64)
      return words.contains("avx2") && words.contains("fma") ? RECUR_ISA_AVX2 : RECUR_ISA_SCALAR
    #elseif arch(arm64)
      return words.contains("asimd") ? RECUR_ISA_NEON : RECUR_ISA_SCALAR
    #else
      return RECUR_ISA_SCALAR
    #endif
  #else
    return nil
  #endif
}

/// The instruction set the dispatched kernels must run here: scalar when `RECUR_ISA=scalar` forces it,
/// else the CPU's vector instruction set (`RECUR_ISA=avx2` or `neon` only picks what the CPU has).
func expectedKernelISA() -> recur_isa? {
  if ProcessInfo.processInfo.environment["RECUR_ISA"] == "scalar" { return RECUR_ISA_SCALAR }
  return cpuVectorISA()
}

/// Records an issue unless the dispatched kernels run ``expectedKernelISA()``. A test that compares the
/// dispatched kernels with their scalar twins calls this first: were the scalar table dispatched on a CPU
/// with AVX2 or NEON, it would compare the scalar kernels with themselves and pass whatever the vector
/// kernels do.
func expectVectorKernelsDispatched(sourceLocation: SourceLocation = #_sourceLocation) {
  guard let expected = expectedKernelISA() else { return }
  #expect(
    recur_active_isa() == expected,
    "dispatched \(String(cString: recur_isa_name())) (\(recur_active_isa().rawValue)), expected \(expected.rawValue)",
    sourceLocation: sourceLocation)
}

import Recur

/// `recur bench gemm-…`: single-precision C = A · op(B) through `Compute.sgemm`, the path every matrix
/// product in Recur takes. A is M × K; B is K × N ("nn") or stored N × K and transposed ("nt", the
/// product of a linear layer x Wᵀ). The speed counts 2·M·N·K floating-point operations per product.
struct GEMMWorkload: BenchWorkload {
  var m: Int, k: Int, n: Int
  var transposeB: Bool

  /// The shapes measured against PyTorch in BENCHMARKS.md (M × K × N), each NN and NT.
  static let shapes = [(1024, 1024, 1024), (32, 512, 2048), (64, 1024, 4096), (2048, 512, 2048), (1, 512, 2048)]
  static var all: [GEMMWorkload] {
    shapes.flatMap { m, k, n in [false, true].map { GEMMWorkload(m: m, k: k, n: n, transposeB: $0) } }
  }

  var name: String { "gemm-\(m)x\(k)x\(n)-\(transposeB ? "nt" : "nn")" }
  var unit: String { "GFLOP/s" }
  var summary: String {
    "C[\(m)x\(n)] = A[\(m)x\(k)] · \(transposeB ? "Bᵀ, B[\(n)x\(k)]" : "B[\(k)x\(n)]")"
  }

  func prepare(threads: Int) -> () -> Double {
    var generator = SeededGenerator(seed: 42)
    let a = (0..<(m * k)).map { _ in Float(generator.nextUnit()) - 0.5 }
    let b = (0..<(k * n)).map { _ in Float(generator.nextUnit()) - 0.5 }
    let output = ProductOutput(count: m * n)
    let (m, n, k, transposeB) = (self.m, self.n, self.k, self.transposeB)
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    func product() {
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          output.values.withUnsafeMutableBufferPointer { pc in
            Compute.sgemm(
              transposeA: false, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
              b: pb.baseAddress!, ldb: transposeB ? k : n, beta: 0, c: pc.baseAddress!, ldc: n, threads: threads)
          }
        }
      }
    }
    product()  // warm up: page in the buffers, grow the packing scratch
    return { benchCallsPerSecond(minimumSeconds: 0.2, product) * flops / 1e9 }
  }
}

/// The product's C, owned by the timed closure (freed with it).
private final class ProductOutput {
  var values: [Float]
  init(count: Int) { values = [Float](repeating: 0, count: count) }
}

import Recur
import Testing
import _RecurKernels

/// One GEMM problem with non-packed leading dimensions: op(A) is m × k, op(B) is k × n.
private struct GEMMCase: CustomStringConvertible {
  var transposeA: Bool, transposeB: Bool
  var m: Int, n: Int, k: Int
  var alpha: Float = 0.75, beta: Float = -1.25

  // Stored shapes and leading dimensions (each row padded by a few unused elements).
  var aRows: Int { transposeA ? k : m }
  var aColumns: Int { transposeA ? m : k }
  var bRows: Int { transposeB ? n : k }
  var bColumns: Int { transposeB ? k : n }
  var lda: Int { aColumns + 3 }
  var ldb: Int { bColumns + 5 }
  var ldc: Int { n + 2 }

  var description: String { "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)x\(n)x\(k)" }

  func inputs(seed: UInt64) -> (a: [Float], b: [Float], c: [Float]) {
    (
      kernelRandom(aRows * lda, seed: seed), kernelRandom(bRows * ldb, seed: seed + 1),
      kernelRandom(m * ldc, seed: seed + 2)
    )
  }

  /// C computed in Double from the same inputs (padding elements of C keep their value).
  func reference(_ a: [Float], _ b: [Float], _ c: [Float]) -> [Double] {
    var out = c.map(Double.init)
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for p in 0..<k {
          let av = transposeA ? a[p * lda + i] : a[i * lda + p]
          let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
          sum += Double(av) * Double(bv)
        }
        out[i * ldc + j] = Double(alpha) * sum + Double(beta) * Double(c[i * ldc + j])
      }
    }
    return out
  }

  /// Runs `body(a, b, c)` on copies of the inputs and returns C.
  func run(
    _ a: [Float], _ b: [Float], _ c: [Float],
    _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
  ) -> [Float] {
    var out = c
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        out.withUnsafeMutableBufferPointer { pc in body(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!) }
      }
    }
    return out
  }

  func vectorized(_ a: [Float], _ b: [Float], _ c: [Float]) -> [Float] {
    run(a, b, c) { pa, pb, pc in
      recur_sgemm(
        transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
    }
  }

  func scalar(_ a: [Float], _ b: [Float], _ c: [Float]) -> [Float] {
    run(a, b, c) { pa, pb, pc in
      recur_sgemm_scalar(
        transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
    }
  }

  func threaded(_ a: [Float], _ b: [Float], _ c: [Float], threads: Int) -> [Float] {
    run(a, b, c) { pa, pb, pc in
      Compute.sgemm(
        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: pa, lda: lda,
        b: pb, ldb: ldb, beta: beta, c: pc, ldc: ldc, threads: threads)
    }
  }
}

/// Each size of `kernelSizes` appears in each of m, n and k for every transpose combination, without the
/// full cartesian product.
private let sampledCases: [GEMMCase] = [false, true].flatMap { ta in
  [false, true].flatMap { tb in
    kernelSizes.indices.map { i in
      let s = kernelSizes
      return GEMMCase(
        transposeA: ta, transposeB: tb, m: s[i], n: s[(i * 3 + 4) % s.count], k: s[(i * 7 + 2) % s.count])
    }
  }
}

@Suite("Kernels/GEMM")
struct GEMMTests {
  @Test("SGEMM matches a Double reference and the scalar twin on awkward shapes")
  func matchesReference() {
    expectVectorKernelsDispatched()
    for (index, problem) in sampledCases.enumerated() {
      let (a, b, c) = problem.inputs(seed: UInt64(100 + index))
      let reference = problem.reference(a, b, c)
      let fast = problem.vectorized(a, b, c)
      let scalar = problem.scalar(a, b, c)
      #expect(relativeFrobeniusError(fast, reference) <= 1e-5, "\(problem)")
      #expect(relativeFrobeniusError(scalar, reference) <= 1e-5, "\(problem)")
    }
  }

  @Test("Multi-threaded SGEMM equals single-threaded SGEMM bitwise")
  func threadsAreBitwiseEqual() {
    let problems = [
      GEMMCase(transposeA: false, transposeB: false, m: 200, n: 130, k: 300),
      GEMMCase(transposeA: true, transposeB: true, m: 97, n: 260, k: 129),
      GEMMCase(transposeA: false, transposeB: true, m: 1, n: 2048, k: 1100),
      GEMMCase(transposeA: true, transposeB: false, m: 3000, n: 1, k: 700),
    ]
    for (index, problem) in problems.enumerated() {
      let (a, b, c) = problem.inputs(seed: UInt64(900 + index))
      let single = problem.threaded(a, b, c, threads: 1)
      for threads in [2, 3, 4] {
        #expect(problem.threaded(a, b, c, threads: threads) == single, "\(problem), \(threads) threads")
      }
      // Every split into parts, run one after another, gives the same bits too.
      for parts in [2, 5] {
        let split = problem.run(a, b, c) { pa, pb, pc in
          for part in 0..<parts {
            recur_sgemm_part(
              problem.transposeA ? 1 : 0, problem.transposeB ? 1 : 0, problem.m, problem.n, problem.k,
              problem.alpha, pa, problem.lda, pb, problem.ldb, problem.beta, pc, problem.ldc, part, parts)
          }
        }
        #expect(split == single, "\(problem), \(parts) parts")
      }
      #expect(relativeFrobeniusError(single, problem.reference(a, b, c)) <= 1e-5, "\(problem)")
    }
  }

  @Test("beta = 0 ignores NaN already in C")
  func betaZeroIgnoresC() {
    for problem in [
      GEMMCase(transposeA: false, transposeB: false, m: 17, n: 33, k: 8, beta: 0),
      GEMMCase(transposeA: true, transposeB: true, m: 1, n: 33, k: 15, beta: 0),
      GEMMCase(transposeA: false, transposeB: true, m: 7, n: 1, k: 100, beta: 0),
    ] {
      let (a, b, _) = problem.inputs(seed: 7)
      let c = [Float](repeating: .nan, count: problem.m * problem.ldc)
      let fast = problem.vectorized(a, b, c)
      let scalar = problem.scalar(a, b, c)
      for i in 0..<problem.m {
        for j in 0..<problem.n {
          #expect(!fast[i * problem.ldc + j].isNaN, "\(problem) [\(i), \(j)]")
          #expect(!scalar[i * problem.ldc + j].isNaN, "\(problem) [\(i), \(j)]")
        }
      }
    }
  }

  @Test("K = 0 scales C by beta")
  func emptyInnerDimension() {
    let problem = GEMMCase(transposeA: false, transposeB: false, m: 9, n: 20, k: 0)
    let c = kernelRandom(problem.m * problem.ldc, seed: 3)
    let fast = problem.vectorized([0], [0], c)
    for i in 0..<problem.m {
      for j in 0..<problem.n {
        #expect(fast[i * problem.ldc + j] == problem.beta * c[i * problem.ldc + j])
      }
    }
  }

  @Test("SGEMV matches its scalar twin for both transposes")
  func gemvMatchesScalar() {
    expectVectorKernelsDispatched()
    for (index, rows) in kernelSizes.enumerated() {
      let columns = kernelSizes[(index * 5 + 3) % kernelSizes.count]
      let lda = columns + 3
      let a = kernelRandom(rows * lda, seed: UInt64(40 + index))
      for transpose in [false, true] {
        let inputs = transpose ? rows : columns
        let outputs = transpose ? columns : rows
        let x = kernelRandom(inputs, seed: UInt64(60 + index))
        let y = kernelRandom(outputs, seed: UInt64(80 + index))
        var fast = y
        var scalar = y
        recur_sgemv(transpose ? 1 : 0, rows, columns, 0.5, a, lda, x, 1.5, &fast)
        recur_sgemv_scalar(transpose ? 1 : 0, rows, columns, 0.5, a, lda, x, 1.5, &scalar)
        #expect(relativeFrobeniusError(fast, scalar) <= 1e-5, "\(rows)x\(columns) transpose \(transpose)")
      }
    }
  }

  @Test("The thread-count setting round-trips")
  func threadCountSetting() {
    let saved = Compute.threadCount
    #expect(saved >= 1)
    Compute.threadCount = 3
    #expect(Compute.threadCount == 3)
    Compute.threadCount = saved
  }
}

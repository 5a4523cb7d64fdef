import Dispatch
import _RecurKernels

/// Settings and entry points of Recur's compute core: the thread count of large matrix products and the
/// instruction set the kernels run on.
///
/// Every single-precision matrix product in Recur (`Float.gemm`) goes through `Compute.sgemm`, which
/// splits large products across `threadCount` threads. The split cuts the rows or columns of C, never
/// the shared dimension K, so the result is bitwise the same for every thread count.
public enum Compute {
  /// The number of threads large matrix products are split across (at least 1).
  ///
  /// Defaults to the environment variable `RECUR_THREADS` when set, else the number of processors this
  /// process may run on. Setting it is safe from any thread; products already running keep their count.
  public static var threadCount: Int {
    get { recur_thread_count() }
    set { recur_set_thread_count(max(1, newValue)) }
  }

  /// The instruction set the kernels use on this CPU: "avx2+fma", "neon" or "scalar".
  ///
  /// Chosen once, at the first kernel call, from what the CPU reports (never assumed from the
  /// architecture). The environment variable `RECUR_ISA` can force `scalar`, or `avx2` / `neon` where
  /// the CPU has it; an instruction set the CPU lacks leaves the automatic choice.
  public static var instructionSet: String { String(cString: recur_isa_name()) }

  /// C = alpha · op(A) · op(B) + beta · C in single precision, split across threads when large.
  ///
  /// Row-major: op(A) is M × K, op(B) is K × N, C is M × N; `lda`, `ldb`, `ldc` are the distances between
  /// rows. When `beta` is 0, C is not read. Products below about two million multiply-adds run on the
  /// calling thread. Stops the program with a message if the kernel cannot allocate its scratch memory.
  /// - Parameters:
  ///   - transposeA: op(A) = Aᵀ (A stored K × M) when true, else A (stored M × K).
  ///   - transposeB: op(B) = Bᵀ (B stored N × K) when true, else B (stored K × N).
  ///   - m: M, the rows of op(A) and C.
  ///   - n: N, the columns of op(B) and C.
  ///   - k: K, the columns of op(A) and rows of op(B).
  ///   - alpha: the factor of the product.
  ///   - a: A's elements.
  ///   - lda: the distance between A's rows.
  ///   - b: B's elements.
  ///   - ldb: the distance between B's rows.
  ///   - beta: the factor of C's old value (0: C is only written).
  ///   - c: C's elements, overwritten with the result.
  ///   - ldc: the distance between C's rows.
  ///   - threads: the most threads to use; `nil` means `threadCount`.
  public static func sgemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
  ) {
    let ta: Int32 = transposeA ? 1 : 0
    let tb: Int32 = transposeB ? 1 : 0
    let parts = recur_sgemm_parallel_parts(m, n, k, max(1, threads ?? threadCount))
    if parts <= 1 {
      checkKernelStatus(recur_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), "recur_sgemm")
      return
    }
    // The parts write disjoint slices of C; the addresses cross into the worker threads as integers.
    let addresses = (a: Int(bitPattern: a), b: Int(bitPattern: b), c: Int(bitPattern: c))
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      let status = recur_sgemm_part(
        ta, tb, m, n, k, alpha, UnsafePointer(bitPattern: addresses.a), lda,
        UnsafePointer(bitPattern: addresses.b), ldb, beta, UnsafeMutablePointer(bitPattern: addresses.c), ldc,
        part, parts)
      checkKernelStatus(status, "recur_sgemm_part")
    }
  }

  /// The fewest multiply-adds for which ``sgemmPacked(transposeA:m:n:k:alpha:a:lda:packed:beta:c:ldc:threads:)``
  /// splits a product across threads.
  public static let packedParallelMinimum = 8.0 * 1024 * 1024

  /// C = alpha · op(A) · op(B) + beta · C in single precision with op(B) packed once by `recur_sgemm_pack_b`
  /// (see `Float.packMatrix`), split across threads as ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:threads:)``
  /// splits the same product, from ``packedParallelMinimum`` multiply-adds.
  /// - Parameters:
  ///   - transposeA: op(A) = Aᵀ (A stored K × M) when true.
  ///   - m: M, the rows of C.
  ///   - n: N, the columns of C.
  ///   - k: K.
  ///   - alpha: the factor of the product.
  ///   - a: A's elements.
  ///   - lda: the distance between A's rows.
  ///   - packed: op(B), packed.
  ///   - beta: the factor of C's old value (0: C is only written).
  ///   - c: C's elements.
  ///   - ldc: the distance between C's rows.
  ///   - threads: the most threads to use; `nil` means `threadCount`.
  public static func sgemmPacked(
    transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    packed: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
  ) {
    let ta: Int32 = transposeA ? 1 : 0
    // A packed product is a per-step product, called once per time step: waking the other threads costs
    // tens of microseconds every step, so it is split only from `packedParallelMinimum` multiply-adds.
    let large = Double(m) * Double(n) * Double(k) >= packedParallelMinimum
    let parts = large ? recur_sgemm_parallel_parts(m, n, k, max(1, threads ?? threadCount)) : 1
    if parts <= 1 {
      checkKernelStatus(recur_sgemm_packed(ta, m, n, k, alpha, a, lda, packed, beta, c, ldc), "recur_sgemm_packed")
      return
    }
    let addresses = (a: Int(bitPattern: a), b: Int(bitPattern: packed), c: Int(bitPattern: c))
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      let status = recur_sgemm_packed_part(
        ta, m, n, k, alpha, UnsafePointer(bitPattern: addresses.a), lda, UnsafePointer(bitPattern: addresses.b),
        beta, UnsafeMutablePointer(bitPattern: addresses.c), ldc, part, parts)
      checkKernelStatus(status, "recur_sgemm_packed_part")
    }
  }
}

import Dispatch

/// The split of a batch's rows across threads for a whole time loop.
///
/// Through the time loop the B sequences of a batch never meet: row b of s_t depends only on row b of
/// s_{t-1} and of the step's input. So the loop runs as independent parts over ranges of rows, one per
/// thread, with one wake-up of the other threads per pass instead of one per step, and the cells' fused
/// kernels run in parallel as well as the products. Each element of a product sums over K in the same order
/// whichever rows it is computed with, so the results are bitwise the same for every split.
enum RowSplit {
  /// The fewest multiply-adds in a pass's per-step products for which a split pays for its wake-up.
  static let minimumWork = 4.0 * 1024 * 1024
  /// The fewest rows of a part.
  static let minimumRows = 4

  /// The number of parts for a pass of `steps` steps over `batch` rows whose per-step product costs
  /// `rowWork` multiply-adds per row; 1 (no split) unless the per-step weight is packed (B > 1).
  static func parts(batch: Int, steps: Int, rowWork: Double, packed: Bool) -> Int {
    let threads = Compute.threadCount
    let most = min(threads, batch / minimumRows)
    guard packed, most > 1, Double(batch) * Double(steps) * rowWork >= minimumWork else { return 1 }
    return most
  }

  /// Runs `body` once per part with the part's rows and the thread cap for its products: all rows and no
  /// cap (nil) for one part, else on `parts` threads at once, each with a cap of 1.
  static func run(batch: Int, parts: Int, _ body: (Range<Int>, Int?) -> Void) {
    guard parts > 1 else {
      body(0..<batch, nil)
      return
    }
    withoutActuallyEscaping(body) { body in
      // The parts write disjoint rows of every buffer they share.
      let shared = UncheckedSendableBox(body)
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        shared.value(batch * part / parts..<batch * (part + 1) / parts, 1)
      }
    }
  }
}

/// A value handed to other threads whose safety the code that shares it guarantees (disjoint writes).
private struct UncheckedSendableBox<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}

/// A growable, manually managed scalar buffer: the reusable workspace behind the time loops, so that the
/// hot path allocates nothing per time step (it grows only when a larger batch or sequence arrives). The
/// storage is 64-byte aligned (a cache line; what packed GEMM operands need).
final class Buffer<Scalar: RecurScalar> {
  private(set) var pointer: UnsafeMutablePointer<Scalar>
  private(set) var capacity: Int

  init(capacity: Int = 0) {
    self.capacity = max(capacity, 1)
    pointer = Self.allocate(self.capacity)
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }

  private static func allocate(_ count: Int) -> UnsafeMutablePointer<Scalar> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Scalar>.stride, alignment: 64)
    let pointer = raw.bindMemory(to: Scalar.self, capacity: count)
    pointer.initialize(repeating: 0, count: count)
    return pointer
  }

  /// Makes room for at least `count` scalars and returns the start; contents are unspecified after growth.
  @discardableResult
  func reserve(_ count: Int) -> UnsafeMutablePointer<Scalar> {
    if count > capacity {
      UnsafeMutableRawPointer(pointer).deallocate()
      capacity = count
      pointer = Self.allocate(count)
    }
    return pointer
  }

  /// Sets the first `count` scalars to zero.
  func zero(_ count: Int) {
    precondition(count <= capacity)
    pointer.update(repeating: 0, count: count)
  }

  /// The pointer offset by `offset` scalars.
  subscript(offset: Int) -> UnsafeMutablePointer<Scalar> { pointer + offset }
}

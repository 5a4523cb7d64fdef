/// A growable, manually managed scalar buffer: the reusable workspace behind the time loops, so that the
/// hot path allocates nothing per time step (it grows only when a larger batch or sequence arrives).
final class Buffer<Scalar: RecurScalar> {
  private(set) var pointer: UnsafeMutablePointer<Scalar>
  private(set) var capacity: Int

  init(capacity: Int = 0) {
    self.capacity = max(capacity, 1)
    pointer = .allocate(capacity: self.capacity)
    pointer.initialize(repeating: 0, count: self.capacity)
  }

  deinit { pointer.deallocate() }

  /// Makes room for at least `count` scalars and returns the start; contents are unspecified after growth.
  @discardableResult
  func reserve(_ count: Int) -> UnsafeMutablePointer<Scalar> {
    if count > capacity {
      pointer.deallocate()
      capacity = count
      pointer = .allocate(capacity: count)
      pointer.initialize(repeating: 0, count: count)
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

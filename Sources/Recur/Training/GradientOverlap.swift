/// A communicator that sums a caller's buffer over all ranks in place without waiting (MPI_Iallreduce), so
/// that a gradient's reduction can run while BPTT computes the layers below.
protocol InPlaceReducing: Communicator {
  /// Starts summing the `count` scalars at `values` over all ranks, in place; the buffer must stay untouched
  /// until ``wait(_:)`` returns. Returns the request.
  func startAllreduceSum<S: RecurScalar>(inPlace values: UnsafeMutablePointer<S>, count: Int) throws -> Int
  /// Lets a started reduction progress (MPI_Test: Open MPI advances non-blocking collectives only inside MPI
  /// calls); the request stays outstanding until ``wait(_:)``.
  func progress(_ request: Int)
  /// Completes a started reduction.
  func wait(_ request: Int) throws
}

/// The reduction of a network's gradient over the ranks, overlapped with BPTT: the backward pass hands over
/// each parameter gradient as soon as it is final, in reverse visiting order (the head, then the recurrent
/// layers from the top, then the embedding); the gradients are packed into one buffer laid out in visiting
/// order (as ``Parameterized/flattened()``), and as soon as a segment — the embedding, one layer (both
/// directions) or the head — is complete, its sum over the ranks is started in place. ``complete(into:)``
/// waits for every segment and writes the sums back into the gradient.
///
/// The buffer and the segment bounds are made once per trainer; a step allocates nothing. Every rank starts
/// the same segments in the same order, so the collective operations match across ranks.
final class GradientOverlap<Scalar: RecurScalar>: GradientReadiness {
  private let communicator: any InPlaceReducing
  /// The packed gradient, `total` scalars in visiting order.
  private let buffer: UnsafeMutablePointer<Scalar>
  private let total: Int
  /// Segment k is `bounds[k] ..< bounds[k + 1]`.
  private let bounds: [Int]
  /// The next tensor handed over ends at `cursor`.
  private var cursor = 0
  /// Segments `0 ..< pendingSegments` have not been started.
  private var pendingSegments = 0
  private var requests: [Int]
  private var failure: (any Error)?

  /// An overlap for gradients shaped like `network`.
  init(communicator: any InPlaceReducing, network: RecurrentNetwork<Scalar>) {
    self.communicator = communicator
    var bounds = [0]
    if let e = network.embedding, e.count > 0 { bounds.append(e.count) }
    let stack = network.stack
    for l in stack.layers.indices {
      var n = Self.count(stack.layers[l])
      if stack.isBidirectional { n += Self.count(stack.reverseLayers[l]) }
      bounds.append(bounds.last! + n)
    }
    bounds.append(bounds.last! + network.headWeight.count + network.headBias.count)
    precondition(bounds.last! == network.parameterCount, "GradientOverlap: segments do not cover the parameters")
    self.bounds = bounds
    total = bounds.last!
    buffer = .allocate(capacity: max(total, 1))
    requests = []
    requests.reserveCapacity(bounds.count)
  }

  deinit { buffer.deallocate() }

  private static func count(_ layer: RecurrentLayer<Scalar>) -> Int {
    layer.weightIH.count + layer.weightHH.count + layer.biasIH.count + layer.biasHH.count
  }

  /// Starts a step: the next tensors handed over are the last in visiting order.
  func begin() {
    cursor = total
    pendingSegments = bounds.count - 1
    requests.removeAll(keepingCapacity: true)
    failure = nil
  }

  /// `tensor`'s gradient is final; tensors come in reverse visiting order.
  func finished(_ tensor: Tensor<Scalar>) {
    let n = tensor.count
    cursor -= n
    precondition(cursor >= 0, "GradientOverlap: more gradients than parameters")
    tensor.scalars.withUnsafeBufferPointer { (buffer + cursor).update(from: $0.baseAddress!, count: n) }
    startCompleteSegments()
  }

  /// The gradient of a recurrent layer (one direction) is final.
  func finished(layer: RecurrentLayer<Scalar>) {
    // The reverse of the stack's visiting order: weight_ih, weight_hh, bias_ih, bias_hh.
    finished(layer.biasHH)
    finished(layer.biasIH)
    finished(layer.weightHH)
    finished(layer.weightIH)
  }

  /// Lets MPI progress the reductions started so far (called between layers).
  func progress() {
    for r in requests { communicator.progress(r) }
  }

  private func startCompleteSegments() {
    while pendingSegments > 0, cursor <= bounds[pendingSegments - 1] {
      precondition(cursor == bounds[pendingSegments - 1], "GradientOverlap: a tensor crosses a segment bound")
      startNextSegment()
    }
  }

  /// Starts the sum of the highest segment not yet started.
  private func startNextSegment() {
    let k = pendingSegments - 1
    pendingSegments = k
    progress()
    guard failure == nil else { return }
    do {
      requests.append(try communicator.startAllreduceSum(inPlace: buffer + bounds[k], count: bounds[k + 1] - bounds[k]))
    } catch {
      failure = error
    }
  }

  /// For a rank without rows this step: hands over the whole (zero) gradient at once.
  func finishedAll(_ gradient: RecurrentNetwork<Scalar>) {
    var offset = 0
    gradient.forEachParameter { _, t in
      t.scalars.withUnsafeBufferPointer { (buffer + offset).update(from: $0.baseAddress!, count: t.count) }
      offset += t.count
    }
    cursor = 0
    while pendingSegments > 0 { startNextSegment() }
  }

  /// Waits for every segment's sum and writes the sums into `gradient` (shaped as at ``init(communicator:network:)``).
  ///
  /// - Throws: ``CommunicationError`` when a reduction failed to start or complete.
  func complete(into gradient: inout RecurrentNetwork<Scalar>) throws {
    precondition(cursor == 0 && pendingSegments == 0, "GradientOverlap: BPTT did not hand over every gradient")
    var firstError = failure
    for r in requests {
      do { try communicator.wait(r) } catch { firstError = firstError ?? error }
    }
    requests.removeAll(keepingCapacity: true)
    if let firstError { throw firstError }
    var offset = 0
    gradient.updateEachParameter { _, t in
      let n = t.count
      t.withMutablePointer { $0.update(from: buffer + offset, count: n) }
      offset += n
    }
  }
}

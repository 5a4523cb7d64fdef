/// Inverted dropout, written once for the embedding output and the inputs of layers 1 … L−1: while training,
/// each element is kept with probability 1 − p and scaled by 1/(1 − p), so its expectation is unchanged and
/// evaluation needs no rescaling.
enum Dropout {
  /// Draws m_i = 1/(1 − p) with probability 1 − p, else 0 (one ``SeededGenerator/nextUnit()`` per element, in
  /// order), into `mask`, and writes y_i = x_i m_i into `output` (which may be `input`).
  @_specialize(where Scalar == Float)
  static func forward<Scalar: RecurScalar>(
    count: Int, probability p: Double, generator: UnsafeMutablePointer<SeededGenerator>,
    input: UnsafePointer<Scalar>, mask: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>
  ) {
    let keep = 1 - p
    for i in 0..<count {
      mask[i] = generator.pointee.nextUnit() < keep ? Scalar(1 / keep) : 0
      output[i] = input[i] * mask[i]
    }
  }

  /// The backward step of ``forward(count:probability:generator:input:mask:output:)``: y = x ∗ m, so
  /// dL/dx = dL/dy ∗ m, in place.
  @_specialize(where Scalar == Float)
  static func backward<Scalar: RecurScalar>(count: Int, mask: UnsafePointer<Scalar>, gradient: UnsafeMutablePointer<Scalar>) {
    for i in 0..<count { gradient[i] *= mask[i] }
  }
}

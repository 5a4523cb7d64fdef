/// Inverted dropout, written once for the embedding output and the inputs of layers 1 … L−1: while training,
/// each element is kept with probability 1 − p and scaled by 1/(1 − p), so its expectation is unchanged and
/// evaluation needs no rescaling.
enum Dropout {
  /// Draws m_i = 1/(1 − p) with probability 1 − p, else 0, into `mask` (T·B × `width`, time-major), from
  /// the generators of ``DropoutMasks`` keyed by the mask's `layer` and each row's global sequence index,
  /// and writes y_i = x_i m_i into `output` (which may be `input`).
  @_specialize(where Scalar == Float)
  static func forward<Scalar: RecurScalar>(
    masks: DropoutMasks, layer: Int, steps: Int, batch: Int, width: Int, probability p: Double,
    input: UnsafePointer<Scalar>, mask: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>
  ) {
    masks.fill(mask, layer: layer, steps: steps, batch: batch, width: width, probability: p)
    for i in 0..<(steps * batch * width) { output[i] = input[i] * mask[i] }
  }

  /// The backward step of ``forward(masks:layer:steps:batch:width:probability:input:mask:output:)``: y = x ∗ m, so
  /// dL/dx = dL/dy ∗ m, in place.
  @_specialize(where Scalar == Float)
  static func backward<Scalar: RecurScalar>(count: Int, mask: UnsafePointer<Scalar>, gradient: UnsafeMutablePointer<Scalar>) {
    for i in 0..<count { gradient[i] *= mask[i] }
  }
}

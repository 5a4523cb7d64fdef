/// Inverted dropout, written once for every place a mask applies (the embedding output, the inputs of layers
/// 1 … L−1, the top layer's outputs): while training, each element is kept with probability 1 − p and scaled by
/// 1/(1 − p), so its expectation is unchanged and evaluation needs no rescaling.
enum Dropout {
  /// Draws m_i = 1/(1 − p) with probability 1 − p, else 0, into `mask` (T·B × `width`, time-major), from
  /// the generators of ``DropoutMasks`` keyed by the mask's `slot` and each row's global sequence index (with
  /// `locked`, one draw per sequence and feature shared by every step), and writes y_i = x_i m_i into
  /// `output` (which may be `input`).
  @_specialize(where Scalar == Float)
  static func forward<Scalar: RecurScalar>(
    masks: DropoutMasks, slot: DropoutMasks.Slot, steps: Int, batch: Int, width: Int, probability p: Double,
    locked: Bool = false, input: UnsafePointer<Scalar>, mask: UnsafeMutablePointer<Scalar>,
    output: UnsafeMutablePointer<Scalar>
  ) {
    masks.fill(mask, slot: slot, steps: steps, batch: batch, width: width, probability: p, locked: locked)
    for i in 0..<(steps * batch * width) { output[i] = input[i] * mask[i] }
  }

  /// The backward step of ``forward(masks:slot:steps:batch:width:probability:locked:input:mask:output:)``:
  /// y = x ∗ m, so dL/dx = dL/dy ∗ m, in place.
  @_specialize(where Scalar == Float)
  static func backward<Scalar: RecurScalar>(count: Int, mask: UnsafePointer<Scalar>, gradient: UnsafeMutablePointer<Scalar>) {
    for i in 0..<count { gradient[i] *= mask[i] }
  }
}

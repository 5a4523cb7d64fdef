/// Told during back-propagation as each parameter gradient becomes final — the head first, then the recurrent
/// layers from the top (a bidirectional layer's reverse direction before its forward one), the embedding last —
/// so that a data-parallel trainer can start summing it over the ranks while the layers below are still
/// back-propagating.
protocol GradientReadiness<Scalar>: AnyObject {
  associatedtype Scalar: RecurScalar
  /// The gradient of one parameter tensor (the head's weight or bias, or the embedding) is final.
  func finished(_ tensor: Tensor<Scalar>)
  /// The gradients of one recurrent layer, one direction, are final.
  func finished(layer: RecurrentLayer<Scalar>)
}

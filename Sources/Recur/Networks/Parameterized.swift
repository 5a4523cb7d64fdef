/// A value that owns named trainable tensors: a layer, a network, or the gradients of one (gradients are
/// values of the same type, as in llm.c's `ParameterTensors grads`).
///
/// Names follow PyTorch's `state_dict` where PyTorch has the same module (`rnn.weight_ih_l0`,
/// `head.weight`, …), so checkpoints interchange without conversion. The visiting order is fixed and
/// is the order of checkpoints and optimizer state.
public protocol Parameterized<Scalar> {
  /// The element type of every parameter.
  associatedtype Scalar: RecurScalar
  /// Calls `body` with each parameter's name and value, in the fixed order.
  func forEachParameter(_ body: (String, Tensor<Scalar>) throws -> Void) rethrows
  /// Calls `body` with each parameter's name and the parameter itself, for in-place update.
  mutating func updateEachParameter(_ body: (String, inout Tensor<Scalar>) throws -> Void) rethrows
}

extension Parameterized {
  /// The parameters as (name, tensor) pairs in visiting order.
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    var result: [(name: String, tensor: Tensor<Scalar>)] = []
    forEachParameter { result.append(($0, $1)) }
    return result
  }

  /// The total number of trainable scalars.
  public var parameterCount: Int {
    var total = 0
    forEachParameter { total += $1.count }
    return total
  }

  /// A value of the same shape with every parameter set to zero: the starting point of gradient
  /// accumulation.
  public func zeros() -> Self {
    var copy = self
    copy.updateEachParameter { _, tensor in tensor = Tensor(zerosLike: tensor) }
    return copy
  }

  /// Sets every parameter to zero in place, keeping storage (no allocation). Specialized for the training
  /// network: unspecialized, zeroing the gradients went element by element through value witnesses.
  @_specialize(where Self == RecurrentNetwork<Float>)
  public mutating func zeroAll() {
    updateEachParameter { _, tensor in tensor.zero() }
  }

  /// The global Euclidean norm over all parameters (as `torch.nn.utils.clip_grad_norm_` computes it).
  public var globalNorm: Double {
    var sum = 0.0
    forEachParameter { _, t in let n = t.norm; sum += n * n }
    return sum.squareRoot()
  }
}

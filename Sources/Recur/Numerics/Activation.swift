import _RecurKernels

/// An element-wise activation function: the chapter's f_s (state) or f_o (output) when applied
/// element-wise.
public enum Activation: String, Sendable, Codable, CaseIterable {
  /// f(z) = z.
  case identity
  /// f(z) = tanh z, the chapter's usual choice of f_s.
  case tanh
  /// f(z) = 1 / (1 + e^-z).
  case sigmoid
  /// f(z) = max(0, z).
  case relu

  @usableFromInline var kernel: recur_activation {
    switch self {
    case .identity: RECUR_ACT_IDENTITY
    case .tanh: RECUR_ACT_TANH
    case .sigmoid: RECUR_ACT_SIGMOID
    case .relu: RECUR_ACT_RELU
    }
  }
}

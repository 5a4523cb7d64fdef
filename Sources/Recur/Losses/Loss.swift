/// The per-element loss L_elt(g_t, y_t) of the chapter's section "Sequence-to-sequence RNN". Each is computed
/// from the output layer's pre-activation z^2_t = W^o s_t + W^o_0 and the target.
public enum ElementLoss: String, Sendable, Codable, CaseIterable {
  /// Σ_k (g_{t,k} − y_{t,k})² with g_t = f_o(z^2_t), for real-valued outputs. (The chapter's
  /// ∂L/∂z^2 = g − y is this loss halved, with f_o the identity.)
  case squaredError
  /// Softmax negative log-likelihood −log softmax(z^2_t)[y_t] for a class index y_t (f_o = softmax).
  case crossEntropy
  /// Sigmoid binary cross-entropy Σ_k −[y log σ(z) + (1 − y) log(1 − σ(z))] for targets in [0, 1]
  /// (f_o = sigmoid).
  case binaryCrossEntropy
}

/// How the per-element losses of a batch are combined into the number that is minimized.
public enum LossReduction: String, Sendable, Codable, CaseIterable {
  /// The chapter's objective J(W) = (1/q) Σ_i L_seq(RNN(x^{(i)}), y^{(i)}) with L_seq = Σ_t L_elt: summed over
  /// each sequence's steps, averaged over the q sequences of the batch.
  case meanOverSequences
  /// The mean over every unpadded step of the batch: the per-token loss that language models report
  /// (PyTorch's default `reduction="mean"` for cross-entropy).
  case meanOverSteps
  /// The plain sum over every unpadded step.
  case sum

  /// The factor that turns the sum of element losses into this reduction.
  func scale(sequences: Int, elements: Int) -> Double {
    switch self {
    case .meanOverSequences: 1 / Double(max(sequences, 1))
    case .meanOverSteps: 1 / Double(max(elements, 1))
    case .sum: 1
    }
  }
}

/// The chapter's recurrent neural network cell (section "Recurrent neural networks"):
///
///     z^1_t = W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0,   s_t = f_s(z^1_t)
///
/// with W^{sx} = `weight_ih`, W^{ss} = `weight_hh` and W^{ss}_0 = `bias_ih + bias_hh`. G = 1. With f_s = tanh or
/// ReLU this is PyTorch's `nn.RNN`.
struct ElmanCell: RecurrentCell {
  /// f_s, applied element-wise.
  var activation: Activation
  /// A chapter RNN cell with f_s = `activation` (tanh by default, as the chapter suggests).
  init(activation: Activation = .tanh) { self.activation = activation }

  var gateCount: Int { 1 }
  var hasMemoryCell: Bool { false }
  var cacheWidth: Int { 0 }
  var separateRecurrentGradient: Bool { false }

  @_specialize(where S == Float)
  func forward<S: RecurScalar>(
    batch: Int, hidden: Int, xp: UnsafePointer<S>, hp: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
    h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>?, cache: UnsafeMutablePointer<S>
  ) {
    // s_t = f_s(xp + hp)
    S.rnnForward(batch: batch, hidden: hidden, act: activation, xp: xp, hp: hp, h: h)
  }

  @_specialize(where S == Float)
  func backward<S: RecurScalar>(
    batch: Int, hidden: Int, cache: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?, h: UnsafePointer<S>, c: UnsafePointer<S>?,
    dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
    dxp: UnsafeMutablePointer<S>, dhp: UnsafeMutablePointer<S>?,
    dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?
  ) {
    // ∂s_t/∂z^1_t = f_s'(z^1_t), taken from s_t; s_{t-1} is reached only through W^{ss}.
    S.rnnBackward(batch: batch, hidden: hidden, act: activation, h: h, dh: dh, dpre: dxp)
    dhPrev.update(repeating: 0, count: batch * hidden)
  }
}

/// The chapter's gated RNN (section "Simple gated recurrent networks"):
///
///     g_t = sigmoid(W^{gx} x_t + W^{gs} s_{t-1} + offset)
///     s_t = (1 − g_t) ∗ s_{t-1} + g_t ∗ f_s(W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0)
///
/// G = 2, gate order (g, candidate): rows 0..<H of `weight_ih` are W^{gx}, rows H..<2H are W^{sx}; likewise
/// `weight_hh` holds W^{gs} then W^{ss}. The gate offset is the first H entries of `bias_ih + bias_hh`.
struct GatedCell: RecurrentCell {
  /// f_s of the candidate state.
  var activation: Activation
  /// A gated RNN cell whose candidate state uses f_s = `activation` (the gate g_t is always a sigmoid).
  init(activation: Activation = .tanh) { self.activation = activation }

  var gateCount: Int { 2 }
  var hasMemoryCell: Bool { false }
  var cacheWidth: Int { 2 }
  var separateRecurrentGradient: Bool { false }

  @_specialize(where S == Float)
  func forward<S: RecurScalar>(
    batch: Int, hidden: Int, xp: UnsafePointer<S>, hp: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
    h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>?, cache: UnsafeMutablePointer<S>
  ) {
    S.gatedForward(batch: batch, hidden: hidden, act: activation, xp: xp, hp: hp, hPrev: hPrev, h: h, cache: cache)
  }

  @_specialize(where S == Float)
  func backward<S: RecurScalar>(
    batch: Int, hidden: Int, cache: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?, h: UnsafePointer<S>, c: UnsafePointer<S>?,
    dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
    dxp: UnsafeMutablePointer<S>, dhp: UnsafeMutablePointer<S>?,
    dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?
  ) {
    // s_t = (1 − g) ∗ s_{t-1} + g ∗ f_s(·): the direct path to s_{t-1} carries (1 − g).
    S.gatedBackward(
      batch: batch, hidden: hidden, act: activation, cache: cache, hPrev: hPrev, dh: dh, dpre: dxp, dhPrev: dhPrev)
  }
}

/// Long short-term memory with PyTorch's equations and gate order (i, f, g, o):
///
///     i, f, o = sigmoid(W_i· x + b_i· + W_h· h + b_h·),  g = tanh(…)
///     c_t = f ∗ c_{t-1} + i ∗ g,   h_t = o ∗ tanh(c_t)
///
/// The chapter's "memory cell" is c; h is the output state. G = 4.
struct LSTMCell: RecurrentCell {
  /// The LSTM cell (it has no settings: its activations are fixed by the equations).
  init() {}
  var gateCount: Int { 4 }
  var hasMemoryCell: Bool { true }
  var cacheWidth: Int { 4 }
  var separateRecurrentGradient: Bool { false }

  @_specialize(where S == Float)
  func forward<S: RecurScalar>(
    batch: Int, hidden: Int, xp: UnsafePointer<S>, hp: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
    h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>?, cache: UnsafeMutablePointer<S>
  ) {
    S.lstmForward(batch: batch, hidden: hidden, xp: xp, hp: hp, cPrev: cPrev!, c: c!, h: h, gates: cache)
  }

  @_specialize(where S == Float)
  func backward<S: RecurScalar>(
    batch: Int, hidden: Int, cache: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?, h: UnsafePointer<S>, c: UnsafePointer<S>?,
    dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
    dxp: UnsafeMutablePointer<S>, dhp: UnsafeMutablePointer<S>?,
    dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?
  ) {
    S.lstmBackward(
      batch: batch, hidden: hidden, gates: cache, cPrev: cPrev!, c: c!, dh: dh, dc: dc, dgates: dxp, dcPrev: dcPrev!)
    // h_{t-1} is reached only through W_hh.
    dhPrev.update(repeating: 0, count: batch * hidden)
  }
}

/// Gated recurrent unit with PyTorch's equations and gate order (r, z, n):
///
///     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ∗ (W_hn h + b_hn)),  h_t = (1 − z) ∗ n + z ∗ h_{t-1}
///
/// G = 3. The reset gate scales the recurrent projection including its bias, so dL/dhp differs from dL/dxp.
struct GRUCell: RecurrentCell {
  /// The GRU cell (it has no settings: its activations are fixed by the equations).
  init() {}
  var gateCount: Int { 3 }
  var hasMemoryCell: Bool { false }
  var cacheWidth: Int { 4 }
  var separateRecurrentGradient: Bool { true }

  @_specialize(where S == Float)
  func forward<S: RecurScalar>(
    batch: Int, hidden: Int, xp: UnsafePointer<S>, hp: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
    h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>?, cache: UnsafeMutablePointer<S>
  ) {
    S.gruForward(batch: batch, hidden: hidden, xp: xp, hp: hp, hPrev: hPrev, h: h, cache: cache)
  }

  @_specialize(where S == Float)
  func backward<S: RecurScalar>(
    batch: Int, hidden: Int, cache: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?, h: UnsafePointer<S>, c: UnsafePointer<S>?,
    dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
    dxp: UnsafeMutablePointer<S>, dhp: UnsafeMutablePointer<S>?,
    dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?
  ) {
    S.gruBackward(batch: batch, hidden: hidden, cache: cache, hPrev: hPrev, dh: dh, dxp: dxp, dhp: dhp!, dhPrev: dhPrev)
  }
}

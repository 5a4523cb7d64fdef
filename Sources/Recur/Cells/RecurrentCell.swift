/// One recurrent cell: how to take one time step forward and one step back, for B rows at once.
///
/// Every cell in Recur works on *fused projections*: the driver (``RecurrentLayer``) computes, for all G
/// gates at once,
///
///     xp_t = W_ih x_t + b_ih      (all time steps in one GEMM before the time loop)
///     hp_t = W_hh s_{t-1} + b_hh  (one GEMM per step)
///
/// and the cell combines them element-wise in one fused kernel. In the chapter's notation for the plain
/// RNN, W_ih is W^{sx}, W_hh is W^{ss} and b_ih + b_hh is W^{ss}_0.
///
/// Shapes: xp, hp, dxp, dhp are B × GH; states are B × H; the cache is B × (`cacheWidth` · H).
///
/// The protocol is internal: the cells are the closed set ``CellKind`` names (a checkpoint stores the kind,
/// and PyTorch's weight layout, the fused kernels and the memory plan follow from it), and a step works on raw
/// pointers into the driver's buffers. A new cell is added inside Recur (see CONTRIBUTING.md).
protocol RecurrentCell: Sendable {
  /// G, the number of H-wide gate blocks in the fused weight matrices.
  var gateCount: Int { get }
  /// Whether the state has a memory cell c besides the output state h (the LSTM).
  var hasMemoryCell: Bool { get }
  /// The number of H-wide blocks this cell caches per step for its backward step.
  var cacheWidth: Int { get }
  /// Whether dL/dhp differs from dL/dxp (true for the GRU, whose reset gate scales the recurrent part).
  var separateRecurrentGradient: Bool { get }

  /// One step forward: s_t from xp_t, hp_t and s_{t-1} (h, and c when `hasMemoryCell`).
  func forward<S: RecurScalar>(
    batch: Int, hidden: Int, xp: UnsafePointer<S>, hp: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
    h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>?, cache: UnsafeMutablePointer<S>)

  /// One step back. In: dh = dL/dh_t (this step's loss and the future), dc = dL/dc_t from the future.
  /// Out: dxp (and dhp when `separateRecurrentGradient`), the direct part of dL/dh_{t-1} (not through
  /// W_hh; the driver adds dhp · W_hh) and dL/dc_{t-1}.
  func backward<S: RecurScalar>(
    batch: Int, hidden: Int, cache: UnsafePointer<S>,
    hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?, h: UnsafePointer<S>, c: UnsafePointer<S>?,
    dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
    dxp: UnsafeMutablePointer<S>, dhp: UnsafeMutablePointer<S>?,
    dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?)
}

/// The kinds of recurrent cell, as stored in a model's configuration.
///
/// The set is closed: a checkpoint names its cell by ``description``, PyTorch's weight layout and Recur's fused
/// kernels and memory plan follow from the kind, and the protocol that steps a cell over raw buffers is
/// internal. A new cell is added to Recur itself (CONTRIBUTING.md lists the three files it touches), not
/// plugged in from outside.
public enum CellKind: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The chapter's RNN, s_t = f_s(W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0) (PyTorch's `nn.RNN` when f_s is
  /// tanh or ReLU).
  case rnn(Activation)
  /// The chapter's gated RNN (section "Simple gated recurrent networks").
  case gated(Activation)
  /// Long short-term memory, PyTorch's `nn.LSTM`.
  case lstm
  /// Gated recurrent unit, PyTorch's `nn.GRU`.
  case gru

  /// G, the number of H-wide gate blocks in the fused weight matrices: 1 for the chapter's RNN, 2 for its
  /// gated RNN, 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n).
  public var gateCount: Int { cell.gateCount }
  /// Whether the state has a memory cell c besides the output state h (the LSTM).
  public var hasMemoryCell: Bool { cell.hasMemoryCell }
  /// The H-wide blocks a training pass caches per step and sequence for the backward step (for memory
  /// estimates).
  public var cacheWidth: Int { cell.cacheWidth }

  /// The cell that implements this kind.
  var cell: any RecurrentCell {
    switch self {
    case .rnn(let f): ElmanCell(activation: f)
    case .gated(let f): GatedCell(activation: f)
    case .lstm: LSTMCell()
    case .gru: GRUCell()
    }
  }

  /// The checkpoint name: "lstm", "gru", "rnn_tanh", "rnn_relu", "gated_tanh", …
  public var description: String {
    switch self {
    case .rnn(let f): "rnn_\(f.rawValue)"
    case .gated(let f): "gated_\(f.rawValue)"
    case .lstm: "lstm"
    case .gru: "gru"
    }
  }

  /// Parses a checkpoint name (see ``description``); also accepts "rnn" and "gated" for their tanh forms.
  public init?(_ name: String) {
    switch name {
    case "lstm": self = .lstm
    case "gru": self = .gru
    case "rnn": self = .rnn(.tanh)
    case "gated": self = .gated(.tanh)
    default:
      if name.hasPrefix("rnn_"), let f = Activation(rawValue: String(name.dropFirst(4))) {
        self = .rnn(f)
      } else if name.hasPrefix("gated_"), let f = Activation(rawValue: String(name.dropFirst(6))) {
        self = .gated(f)
      } else {
        return nil
      }
    }
  }

  public init(from decoder: any Decoder) throws {
    let name = try String(from: decoder)
    guard let kind = CellKind(name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown cell '\(name)'"))
    }
    self = kind
  }

  public func encode(to encoder: any Encoder) throws { try description.encode(to: encoder) }
}

/// f_o, the output function of the chapter's RNN, applied to z^2_t = W^o s_t + W^o_0.
public enum OutputActivation: String, Sendable, Codable, CaseIterable {
  /// g = z (regression with squared error).
  case identity
  /// g = σ(z) element-wise (binary outputs, binary cross-entropy).
  case sigmoid
  /// g = tanh z element-wise (outputs in (−1, 1), such as the chapter's ±1 sequence classifier).
  case tanh
  /// g = softmax(z) (a distribution over classes, cross-entropy).
  case softmax

  var elementwise: Activation? {
    switch self {
    case .identity: .identity
    case .sigmoid: .sigmoid
    case .tanh: .tanh
    case .softmax: nil
    }
  }
}

/// A recurrent neural network as the chapter defines it: a state machine whose f_s is a stack of recurrent
/// layers and whose f_o is a linear output layer with an activation,
///
///     s_t = f_s(W^{sx} x_t + W^{ss} s_{t-1} + W^{ss}_0)       (``stack``; RNN, gated RNN, LSTM or GRU)
///     y_t = f_o(W^o s_t + W^o_0)                             (``headWeight``, ``headBias``, ``Configuration/outputActivation``)
///
/// with inputs either real vectors x_t (ℓ = I features) or token ids through an embedding (a language model).
/// Parameter names follow PyTorch's `state_dict` of `embedding = nn.Embedding(V, E)`, `rnn = nn.LSTM(…)` and
/// `head = nn.Linear(H, V)`: `embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`.
public struct RecurrentNetwork<Scalar: RecurScalar>: Sendable, Equatable, Parameterized {
  /// The shape of a network.
  public struct Configuration: Sendable, Hashable, Codable {
    /// The recurrent cell.
    public var cell: CellKind
    /// I, the input vector size (ℓ in the chapter), or V, the number of token ids when ``embeddingSize`` is set.
    public var inputSize: Int
    /// E, the embedding size for token inputs; nil for real-vector inputs.
    public var embeddingSize: Int?
    /// H, the state size of each layer (m in the chapter).
    public var hiddenSize: Int
    /// L, the number of stacked recurrent layers.
    public var layers: Int
    /// The output size (v in the chapter; V for a language model).
    public var outputSize: Int
    /// f_o.
    public var outputActivation: OutputActivation
    /// Dropout probability on the embedding output and between layers, while training.
    public var dropout: Double
    /// Whether every layer also reads the sequences backwards (PyTorch's `bidirectional=True`): the stack's
    /// outputs are then [h^→_t, h^←_t], 2H wide, and W^o is v × 2H. For per-step tagging and one label per
    /// sequence; not for a language model, streaming or sampling, which see only the past.
    public var bidirectional: Bool = false
    /// The AWD-LSTM regularizers while training (none by default).
    public var regularization = Regularization()

    /// A network shape; see each property. The sizes are checked by ``validate()`` when a network is built.
    public init(
      cell: CellKind, inputSize: Int, embeddingSize: Int? = nil, hiddenSize: Int, layers: Int = 1,
      outputSize: Int, outputActivation: OutputActivation = .identity, dropout: Double = 0,
      bidirectional: Bool = false, regularization: Regularization = Regularization()
    ) {
      self.bidirectional = bidirectional
      self.regularization = regularization
      self.cell = cell
      self.inputSize = inputSize
      self.embeddingSize = embeddingSize
      self.hiddenSize = hiddenSize
      self.layers = layers
      self.outputSize = outputSize
      self.outputActivation = outputActivation
      self.dropout = dropout
    }

    /// A character or token language model: embedding V → E, L layers of H, a linear head H → V, softmax.
    public static func languageModel(
      cell: CellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, dropout: Double = 0,
      regularization: Regularization = Regularization()
    ) -> Self {
      Self(
        cell: cell, inputSize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
        layers: layers, outputSize: vocabularySize, outputActivation: .softmax, dropout: dropout,
        regularization: regularization)
    }

    /// Whether a training pass draws masks: plain dropout or any of ``regularization``.
    public var usesTrainingMasks: Bool { dropout > 0 || regularization.isActive }

    /// Checks every size; throws a ``ModelError`` naming the first that is out of range.
    public func validate() throws {
      func check(_ value: Int, _ name: String, max: Int = 1 << 20) throws {
        guard value >= 1 else { throw ModelError("\(name) must be at least 1, got \(value)") }
        guard value <= max else { throw ModelError("\(name) of \(value) is larger than the supported \(max)") }
      }
      try check(inputSize, embeddingSize == nil ? "input size" : "vocabulary size", max: 1 << 24)
      if let embeddingSize { try check(embeddingSize, "embedding size", max: NetworkLimits.embeddingSize) }
      try check(hiddenSize, "hidden size", max: NetworkLimits.hiddenSize)
      try check(layers, "layer count", max: NetworkLimits.layers)
      try check(outputSize, "output size", max: 1 << 24)
      guard dropout.isFinite, dropout >= 0, dropout < 1 else {
        throw ModelError("dropout must be in [0, 1), got \(dropout)")
      }
      try regularization.validate()
      if embeddingSize == nil, regularization.embeddingDropout > 0 || regularization.inputDropout > 0 {
        throw ModelError("embedding and input dropout apply to token models; this network takes vectors")
      }
      if dropout > 0, regularization.inputDropout > 0 || regularization.hiddenDropout > 0 {
        throw ModelError("plain dropout (a new mask every step) and locked input or hidden dropout act on the same values: choose one")
      }
      if bidirectional, embeddingSize != nil {
        throw ModelError("a bidirectional network cannot be a language model: predicting the next token must not read the tokens after it")
      }
    }
  }

  /// The network's shape.
  public let configuration: Configuration
  /// The embedding table (V × E) for token inputs; nil for vector inputs.
  public var embedding: Tensor<Scalar>?
  /// The recurrent layers: f_s.
  public var stack: RecurrentStack<Scalar>
  /// W^o, v × m (PyTorch `head.weight`).
  public var headWeight: Tensor<Scalar>
  /// W^o_0, v (PyTorch `head.bias`).
  public var headBias: Tensor<Scalar>

  /// A network with PyTorch's default initialization (embedding N(0, 1); recurrent layers and head
  /// uniform in ±1/√fan-in), reproducible from `seed`.
  public init(_ configuration: Configuration, seed: UInt64 = 0) throws {
    var generator = SeededGenerator(seed: seed)
    try self.init(configuration, generator: &generator)
  }

  /// A network initialized from `generator` (see ``init(_:seed:)``).
  public init(_ configuration: Configuration, generator: inout SeededGenerator) throws {
    try configuration.validate()
    self.configuration = configuration
    let stackInput: Int
    if let e = configuration.embeddingSize {
      embedding = .normal(shape: [configuration.inputSize, e], using: &generator)
      stackInput = e
    } else {
      embedding = nil
      stackInput = configuration.inputSize
    }
    stack = RecurrentStack(
      kind: configuration.cell, inputSize: stackInput, hiddenSize: configuration.hiddenSize,
      layers: configuration.layers, dropout: configuration.dropout, bidirectional: configuration.bidirectional,
      generator: &generator)
    stack.hiddenDropout = configuration.regularization.hiddenDropout
    stack.weightDrop = configuration.regularization.weightDrop
    let bound = 1 / Double(stack.outputSize).squareRoot()
    headWeight = .uniform(
      shape: [configuration.outputSize, stack.outputSize], low: -bound, high: bound, using: &generator)
    headBias = .uniform(shape: [configuration.outputSize], low: -bound, high: bound, using: &generator)
  }

  public func forEachParameter(_ body: (String, Tensor<Scalar>) throws -> Void) rethrows {
    if let embedding { try body("embedding.weight", embedding) }
    try stack.forEachParameter { try body("rnn." + $0, $1) }
    try body("head.weight", headWeight)
    try body("head.bias", headBias)
  }

  public mutating func updateEachParameter(_ body: (String, inout Tensor<Scalar>) throws -> Void) rethrows {
    if embedding != nil { try body("embedding.weight", &embedding!) }
    try stack.updateEachParameter { try body("rnn." + $0, &$1) }
    try body("head.weight", &headWeight)
    try body("head.bias", &headBias)
  }

  /// The zero initial state s_0 for a batch of B sequences.
  public func zeroState(batch: Int = 1) -> RecurrentState<Scalar> {
    .zeros(
      layers: configuration.layers * (configuration.bidirectional ? 2 : 1), batch: batch, hidden: configuration.hiddenSize,
      memoryCell: configuration.cell.cell.hasMemoryCell)
  }
}

/// The shape chosen for a run's recurrent network: the cell, H, L, dropout and the LSTM's forget-gate bias.
public struct NetworkShape: Sendable, Equatable {
  /// The cell.
  public var cell: CellKind
  /// H, the state size of each layer.
  public var hiddenSize: Int
  /// L, the number of layers.
  public var layers: Int
  /// Dropout between layers (and on an embedding) while training.
  public var dropout: Double
  /// The forget-gate bias an LSTM starts from (nil: PyTorch's initialization; ignored by other cells).
  public var forgetGateBias: Double?
  /// Whether every layer also reads the sequences backwards (``RecurrentNetwork/Configuration/bidirectional``).
  public var bidirectional = false
  /// The AWD-LSTM regularizers while training (``RecurrentNetwork/Configuration/regularization``).
  public var regularization = Regularization()

  /// A shape; see each property.
  public init(cell: CellKind, hiddenSize: Int, layers: Int = 1, dropout: Double = 0, forgetGateBias: Double? = nil) {
    self.cell = cell
    self.hiddenSize = hiddenSize
    self.layers = layers
    self.dropout = dropout
    self.forgetGateBias = forgetGateBias
  }

  /// The initialization after PyTorch's: an LSTM's forget-gate bias when set, else none.
  public var initialization: Initialization? {
    guard cell == .lstm, let forgetGateBias else { return nil }
    return Initialization(forgetGateBias: forgetGateBias)
  }

  /// The configuration of a network of this shape over vectors of `inputSize` features.
  public func configuration(inputSize: Int, outputSize: Int, outputActivation: OutputActivation)
    -> RecurrentNetwork<Float>.Configuration
  {
    .init(
      cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, outputSize: outputSize,
      outputActivation: outputActivation, dropout: dropout, bidirectional: bidirectional,
      regularization: regularization)
  }

  /// A fresh network of this shape, initialized from one generator seeded with `seed`: PyTorch's
  /// initialization, then ``initialization`` (as ``SequenceTask/train(cell:hiddenSize:options:as:progress:)``
  /// does).
  ///
  /// - Throws: ``ModelError`` for sizes out of range.
  public func makeNetwork(inputSize: Int, outputSize: Int, outputActivation: OutputActivation, seed: UInt64) throws
    -> RecurrentNetwork<Float>
  {
    var generator = SeededGenerator(seed: seed)
    var network = try RecurrentNetwork<Float>(
      configuration(inputSize: inputSize, outputSize: outputSize, outputActivation: outputActivation),
      generator: &generator)
    if let initialization { try network.initialize(initialization, generator: &generator) }
    return network
  }
}

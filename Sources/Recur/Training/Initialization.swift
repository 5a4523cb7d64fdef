/// How to draw a network's initial weights: PyTorch's default, Xavier/Glorot, orthogonal recurrent matrices,
/// and the LSTM forget-gate bias. Every fused matrix is initialized gate block by gate block (each block is
/// H × I or H × H), so each gate gets the scale it would have as a separate matrix. The embedding table keeps
/// PyTorch's N(0, 1).
public struct Initialization: Sendable, Codable, Equatable {
  /// A rule for one weight matrix block of `rows × columns` (fan-out × fan-in).
  public enum WeightScheme: String, Sendable, Codable, CaseIterable {
    /// Uniform in ±1/√H, PyTorch's default for `nn.RNN`/`nn.LSTM`/`nn.GRU` (and ±1/√fan-in for `nn.Linear`).
    case pytorchDefault
    /// Uniform in ±√(6 / (fan-in + fan-out)) (Glorot & Bengio, "Understanding the difficulty of training deep
    /// feedforward neural networks", AISTATS 2010; `torch.nn.init.xavier_uniform_`).
    case xavierUniform
    /// A (semi-)orthogonal matrix: Gram–Schmidt, in Double, of a standard normal matrix, which is the Q of its
    /// QR factorization with R's diagonal made positive, as `torch.nn.init.orthogonal_` (Saxe, McClelland &
    /// Ganguli, "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", ICLR
    /// 2014).
    case orthogonal
  }

  /// The rule for the input weights W^{sx} (`weight_ih_l{k}`) and the output weights W^o (`head.weight`).
  public var inputWeights: WeightScheme
  /// The rule for the recurrent weights W^{ss} (`weight_hh_l{k}`).
  public var recurrentWeights: WeightScheme
  /// Set every bias to zero instead of PyTorch's uniform ±1/√H.
  public var zeroBiases: Bool
  /// For an LSTM, the value of the forget-gate bias: `bias_ih`'s forget block is set to it and `bias_hh`'s to
  /// zero, so their sum (the bias the gate sees) is exactly this value (Gers, Schmidhuber & Cummins, "Learning
  /// to forget", 2000; Jozefowicz, Zaremba & Sutskever, ICML 2015, recommend 1).
  public var forgetGateBias: Double?

  /// An initialization scheme; see each property.
  public init(
    inputWeights: WeightScheme = .pytorchDefault, recurrentWeights: WeightScheme = .pytorchDefault,
    zeroBiases: Bool = false, forgetGateBias: Double? = nil
  ) {
    self.inputWeights = inputWeights
    self.recurrentWeights = recurrentWeights
    self.zeroBiases = zeroBiases
    self.forgetGateBias = forgetGateBias
  }

  /// PyTorch's default (what ``RecurrentNetwork/init(_:seed:)`` already draws).
  public static let pytorchDefault = Initialization()
  /// Xavier/Glorot uniform for every weight block, zero biases.
  public static let xavier = Initialization(inputWeights: .xavierUniform, recurrentWeights: .xavierUniform, zeroBiases: true)
  /// Xavier input weights, orthogonal recurrent blocks, zero biases (Keras' recurrent default, without its
  /// forget bias; add ``forgetGateBias`` for an LSTM).
  public static let orthogonalRecurrent = Initialization(
    inputWeights: .xavierUniform, recurrentWeights: .orthogonal, zeroBiases: true)
}

extension RecurrentNetwork {
  /// Redraws every parameter but the embedding table with `initialization`, from `generator`.
  ///
  /// - Throws: ``ModelError`` when a forget-gate bias is asked of a network that is not an LSTM.
  public mutating func initialize(_ initialization: Initialization, generator: inout SeededGenerator) throws {
    if initialization.forgetGateBias != nil, configuration.cell != .lstm {
      throw ModelError("a forget-gate bias needs an LSTM, not \(configuration.cell)")
    }
    let H = configuration.hiddenSize
    let gates = configuration.cell.cell.gateCount
    let biasBound = 1 / Double(H).squareRoot()
    func draw(_ layer: inout RecurrentLayer<Scalar>) {
      layer.weightIH = Self.drawBlocks(
        initialization.inputWeights, blocks: gates, rows: H, columns: layer.inputSize,
        defaultBound: biasBound, generator: &generator)
      layer.weightHH = Self.drawBlocks(
        initialization.recurrentWeights, blocks: gates, rows: H, columns: H, defaultBound: biasBound,
        generator: &generator)
      for bias in [\RecurrentLayer<Scalar>.biasIH, \.biasHH] {
        layer[keyPath: bias] =
          initialization.zeroBiases
          ? Tensor(shape: [gates * H])
          : .uniform(shape: [gates * H], low: -biasBound, high: biasBound, using: &generator)
      }
      if let forget = initialization.forgetGateBias {
        // LSTM gate order i, f, g, o: the forget gate is block 1.
        for j in H..<(2 * H) {
          layer.biasIH.scalars[j] = Scalar(forget)
          layer.biasHH.scalars[j] = 0
        }
      }
    }
    // Layer by layer, the forward direction then (bidirectional) the reverse, as PyTorch lists them.
    for l in stack.layers.indices {
      draw(&stack.layers[l])
      if stack.isBidirectional { draw(&stack.reverseLayers[l]) }
    }
    headWeight = Self.drawBlocks(
      initialization.inputWeights, blocks: 1, rows: configuration.outputSize, columns: stack.outputSize, defaultBound: biasBound,
      generator: &generator)
    headBias =
      initialization.zeroBiases
      ? Tensor(shape: [configuration.outputSize])
      : .uniform(shape: [configuration.outputSize], low: -biasBound, high: biasBound, using: &generator)
  }

  /// `blocks` matrices of rows × columns stacked vertically, each drawn with `scheme`.
  static func drawBlocks(
    _ scheme: Initialization.WeightScheme, blocks: Int, rows: Int, columns: Int, defaultBound: Double,
    generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    var scalars: [Scalar] = []
    scalars.reserveCapacity(blocks * rows * columns)
    for _ in 0..<blocks {
      switch scheme {
      case .pytorchDefault:
        scalars += Tensor<Scalar>.uniform(
          shape: [rows, columns], low: -defaultBound, high: defaultBound, using: &generator
        ).scalars
      case .xavierUniform:
        let bound = (6 / Double(rows + columns)).squareRoot()
        scalars += Tensor<Scalar>.uniform(shape: [rows, columns], low: -bound, high: bound, using: &generator).scalars
      case .orthogonal:
        scalars += orthogonalMatrix(rows: rows, columns: columns, generator: &generator).map { Scalar($0) }
      }
    }
    return Tensor(shape: [blocks * rows, columns], scalars: scalars)
  }
}

/// A rows × columns matrix (row-major, Double) with orthonormal rows (rows ≤ columns) or orthonormal columns
/// (rows ≥ columns): modified Gram–Schmidt on the columns of a tall standard normal matrix — the Q of its QR
/// factorization with a positive diagonal in R, as `torch.nn.init.orthogonal_` — transposed back when wide.
func orthogonalMatrix(rows: Int, columns: Int, generator: inout SeededGenerator) -> [Double] {
  let tall = max(rows, columns), narrow = min(rows, columns)
  // q holds `narrow` vectors of length `tall` (the columns of the tall matrix), vector-major.
  var q = (0..<(tall * narrow)).map { _ in generator.nextNormal() }
  for j in 0..<narrow {
    for k in 0..<j {
      var dot = 0.0
      for i in 0..<tall { dot += q[k * tall + i] * q[j * tall + i] }
      for i in 0..<tall { q[j * tall + i] -= dot * q[k * tall + i] }
    }
    var norm = 0.0
    for i in 0..<tall { norm += q[j * tall + i] * q[j * tall + i] }
    norm = norm.squareRoot()
    for i in 0..<tall { q[j * tall + i] /= norm }
  }
  var result = [Double](repeating: 0, count: rows * columns)
  for r in 0..<rows {
    for c in 0..<columns {
      // Tall: column c of Q is vector c. Wide: row r of the result is vector r.
      result[r * columns + c] = rows >= columns ? q[c * tall + r] : q[r * tall + c]
    }
  }
  return result
}

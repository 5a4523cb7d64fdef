/// A discrete-time linear time-invariant (LTI) system, the chapter's second kind of state machine:
///
///     s_t = f_s(s_{t-1}, x_t) = A s_{t-1} + B x_t
///     y_t = f_o(s_t)          = C s_t
///
/// with states in ℝ^m, inputs in ℝ^ℓ and outputs in ℝ^n. `A` is the state matrix (m × m), `B` the input
/// matrix (m × ℓ), `C` the output matrix (n × m); shapes are checked at construction.
///
/// The ``StateMachine`` requirements expect vectors of the right lengths (a precondition, like an array
/// index); ``response(to:from:)`` checks every input and throws ``LTISystemError`` instead.
public struct LinearTimeInvariantSystem: StateMachine, Sendable, Equatable {
  public typealias State = [Double]
  public typealias Input = [Double]
  public typealias Output = [Double]

  /// The state matrix A, shape [m, m].
  public let stateMatrix: Tensor<Double>
  /// The input matrix B, shape [m, ℓ].
  public let inputMatrix: Tensor<Double>
  /// The output matrix C, shape [n, m].
  public let outputMatrix: Tensor<Double>
  /// The initial state s_0, length m (zero unless given).
  public let initialState: [Double]

  /// m, the length of the state vector.
  public var stateSize: Int { stateMatrix.shape[0] }
  /// ℓ, the length of the input vector.
  public var inputSize: Int { inputMatrix.shape[1] }
  /// n, the length of the output vector.
  public var outputSize: Int { outputMatrix.shape[0] }

  /// Creates a system from its matrices given as rows.
  ///
  /// - Parameters:
  ///   - A: the state matrix, m rows of m numbers.
  ///   - B: the input matrix, m rows of ℓ numbers.
  ///   - C: the output matrix, n rows of m numbers.
  ///   - initialState: s_0, m numbers; zero when nil.
  /// - Throws: ``LTISystemError`` naming the matrix and the dimension that does not fit.
  public init(A: [[Double]], B: [[Double]], C: [[Double]], initialState: [Double]? = nil) throws(LTISystemError) {
    try self.init(
      stateMatrix: Self.matrix(A, name: "A"),
      inputMatrix: Self.matrix(B, name: "B"),
      outputMatrix: Self.matrix(C, name: "C"),
      initialState: initialState)
  }

  /// Creates a system from its matrices as tensors.
  ///
  /// - Parameters:
  ///   - stateMatrix: A, shape [m, m].
  ///   - inputMatrix: B, shape [m, ℓ].
  ///   - outputMatrix: C, shape [n, m].
  ///   - initialState: s_0, length m; zero when nil.
  /// - Throws: ``LTISystemError`` naming the matrix and the dimension that does not fit.
  public init(
    stateMatrix: Tensor<Double>, inputMatrix: Tensor<Double>, outputMatrix: Tensor<Double>,
    initialState: [Double]? = nil
  ) throws(LTISystemError) {
    for (name, matrix) in [("A", stateMatrix), ("B", inputMatrix), ("C", outputMatrix)] {
      guard matrix.shape.count == 2 else { throw .notAMatrix(matrix: name, shape: matrix.shape) }
      guard matrix.shape[0] > 0, matrix.shape[1] > 0 else { throw .emptyMatrix(matrix: name, shape: matrix.shape) }
    }
    let m = stateMatrix.shape[0]
    guard stateMatrix.shape[1] == m else {
      throw .stateMatrixNotSquare(rows: m, columns: stateMatrix.shape[1])
    }
    guard inputMatrix.shape[0] == m else {
      throw .inputMatrixRowMismatch(rows: inputMatrix.shape[0], stateSize: m)
    }
    guard outputMatrix.shape[1] == m else {
      throw .outputMatrixColumnMismatch(columns: outputMatrix.shape[1], stateSize: m)
    }
    let s0 = initialState ?? [Double](repeating: 0, count: m)
    guard s0.count == m else { throw .initialStateLengthMismatch(length: s0.count, stateSize: m) }
    self.stateMatrix = stateMatrix
    self.inputMatrix = inputMatrix
    self.outputMatrix = outputMatrix
    self.initialState = s0
  }

  /// A [rows, columns] tensor from equal-length rows.
  private static func matrix(_ rows: [[Double]], name: String) throws(LTISystemError) -> Tensor<Double> {
    guard let width = rows.first?.count, width > 0 else {
      throw .emptyMatrix(matrix: name, shape: [rows.count, rows.first?.count ?? 0])
    }
    for (i, row) in rows.enumerated() where row.count != width {
      throw .raggedRows(matrix: name, row: i, length: row.count, expected: width)
    }
    return Tensor(shape: [rows.count, width], scalars: rows.flatMap { $0 })
  }

  // MARK: - StateMachine

  /// f_s(s_{t-1}, x_t) = A s_{t-1} + B x_t. `state` must have length m and `input` length ℓ.
  public func transition(_ state: [Double], _ input: [Double]) -> [Double] {
    precondition(state.count == stateSize, "LTI state has length \(state.count), expected \(stateSize)")
    precondition(input.count == inputSize, "LTI input has length \(input.count), expected \(inputSize)")
    var next = Self.multiply(stateMatrix, state)
    Self.multiplyAdd(inputMatrix, input, into: &next)
    return next
  }

  /// f_o(s_t) = C s_t. `state` must have length m.
  public func output(_ state: [Double]) -> [Double] {
    precondition(state.count == stateSize, "LTI state has length \(state.count), expected \(stateSize)")
    return Self.multiply(outputMatrix, state)
  }

  // MARK: - Checked use

  /// The outputs y_1 … y_T for the inputs x_1 … x_T, starting from s_0 (or `state`), with every length
  /// checked.
  ///
  /// - Parameters:
  ///   - inputs: T vectors of length ℓ.
  ///   - state: the starting state (length m); ``initialState`` when nil.
  /// - Returns: T vectors of length n.
  /// - Throws: ``LTISystemError/inputLengthMismatch(step:length:inputSize:)`` for the first input of the
  ///   wrong length, ``LTISystemError/initialStateLengthMismatch(length:stateSize:)`` for a bad `state`.
  public func response(to inputs: [[Double]], from state: [Double]? = nil) throws(LTISystemError) -> [[Double]] {
    if let state, state.count != stateSize {
      throw .initialStateLengthMismatch(length: state.count, stateSize: stateSize)
    }
    for (t, x) in inputs.enumerated() where x.count != inputSize {
      throw .inputLengthMismatch(step: t + 1, length: x.count, inputSize: inputSize)
    }
    return transduce(inputs, from: state)
  }

  /// The response to a unit impulse on input channel `channel`, from the zero state:
  /// x_1 = e_channel, x_t = 0 for t > 1, so y_t = C A^(t-1) B e_channel.
  ///
  /// - Parameters:
  ///   - steps: T, the number of outputs.
  ///   - channel: which input component receives the impulse (0 ..< ℓ).
  /// - Returns: T vectors of length n.
  /// - Throws: ``LTISystemError/inputChannelOutOfRange(channel:inputSize:)``.
  public func impulseResponse(steps: Int, channel: Int = 0) throws(LTISystemError) -> [[Double]] {
    guard (0..<inputSize).contains(channel) else {
      throw .inputChannelOutOfRange(channel: channel, inputSize: inputSize)
    }
    let zero = [Double](repeating: 0, count: inputSize)
    var impulse = zero
    impulse[channel] = 1
    let inputs = (0..<max(steps, 0)).map { $0 == 0 ? impulse : zero }
    return transduce(inputs, from: [Double](repeating: 0, count: stateSize))
  }

  /// The Markov parameters C A^(t-1) B for t = 1 … `count`: the impulse responses of all input channels
  /// at once.
  /// - Returns: `count` tensors of shape [n, ℓ]; column j of element t-1 is y_t of
  ///   ``impulseResponse(steps:channel:)`` with `channel` j.
  public func markovParameters(count: Int) -> [Tensor<Double>] {
    var power = inputMatrix  // A^(t-1) B, [m, ℓ]
    var result: [Tensor<Double>] = []
    for t in 0..<max(count, 0) {
      if t > 0 { power = Self.multiply(stateMatrix, power) }
      result.append(Self.multiply(outputMatrix, power))
    }
    return result
  }

  // MARK: - Small dense products

  /// M v for M of shape [r, c] and v of length c.
  private static func multiply(_ matrix: Tensor<Double>, _ vector: [Double]) -> [Double] {
    var result = [Double](repeating: 0, count: matrix.shape[0])
    multiplyAdd(matrix, vector, into: &result)
    return result
  }

  /// result += M v for M of shape [r, c] and v of length c.
  private static func multiplyAdd(_ matrix: Tensor<Double>, _ vector: [Double], into result: inout [Double]) {
    let (rows, columns) = (matrix.shape[0], matrix.shape[1])
    for i in 0..<rows {
      var sum = 0.0
      for j in 0..<columns { sum += matrix.scalars[i * columns + j] * vector[j] }
      result[i] += sum
    }
  }

  /// The product P Q of shapes [r, k] and [k, c].
  private static func multiply(_ p: Tensor<Double>, _ q: Tensor<Double>) -> Tensor<Double> {
    let (r, k, c) = (p.shape[0], p.shape[1], q.shape[1])
    var product = Tensor<Double>(shape: [r, c])
    for i in 0..<r {
      for j in 0..<c {
        var sum = 0.0
        for h in 0..<k { sum += p.scalars[i * k + h] * q.scalars[h * c + j] }
        product.scalars[i * c + j] = sum
      }
    }
    return product
  }
}

/// Shorter name for ``LinearTimeInvariantSystem``.
public typealias LTISystem = LinearTimeInvariantSystem

/// A problem with the shapes of an LTI system or of the vectors given to it.
public enum LTISystemError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A matrix given as a tensor is not two-dimensional.
  case notAMatrix(matrix: String, shape: [Int])
  /// A matrix has no rows or no columns.
  case emptyMatrix(matrix: String, shape: [Int])
  /// A matrix given as rows has rows of different lengths.
  case raggedRows(matrix: String, row: Int, length: Int, expected: Int)
  /// The state matrix A is not square.
  case stateMatrixNotSquare(rows: Int, columns: Int)
  /// The input matrix B does not have m rows.
  case inputMatrixRowMismatch(rows: Int, stateSize: Int)
  /// The output matrix C does not have m columns.
  case outputMatrixColumnMismatch(columns: Int, stateSize: Int)
  /// The initial state does not have m components.
  case initialStateLengthMismatch(length: Int, stateSize: Int)
  /// Input x_step (1-based) does not have ℓ components.
  case inputLengthMismatch(step: Int, length: Int, inputSize: Int)
  /// An impulse was asked for on an input channel that does not exist.
  case inputChannelOutOfRange(channel: Int, inputSize: Int)

  public var description: String {
    switch self {
    case .notAMatrix(let name, let shape):
      "matrix \(name) must be two-dimensional, got shape \(shape)"
    case .emptyMatrix(let name, let shape):
      "matrix \(name) is empty (shape \(shape)); it needs at least one row and one column"
    case .raggedRows(let name, let row, let length, let expected):
      "matrix \(name): row \(row) has \(length) entries, expected \(expected) like row 0"
    case .stateMatrixNotSquare(let rows, let columns):
      "state matrix A must be square (m × m), got \(rows) × \(columns)"
    case .inputMatrixRowMismatch(let rows, let m):
      "input matrix B has \(rows) rows, expected m = \(m) (the size of A)"
    case .outputMatrixColumnMismatch(let columns, let m):
      "output matrix C has \(columns) columns, expected m = \(m) (the size of A)"
    case .initialStateLengthMismatch(let length, let m):
      "initial state has \(length) components, expected m = \(m) (the size of A)"
    case .inputLengthMismatch(let step, let length, let l):
      "input x_\(step) has \(length) components, expected ℓ = \(l) (the columns of B)"
    case .inputChannelOutOfRange(let channel, let l):
      "impulse input channel \(channel) is out of range 0..<\(l) (the columns of B)"
    }
  }
}

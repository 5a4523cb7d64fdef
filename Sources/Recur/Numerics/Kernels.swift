/// A shape that does not fit a kernel: thrown by the shape-checked wrappers in `Kernels`.
public struct KernelShapeError: Error, Equatable, CustomStringConvertible {
  /// One line naming the operation and the shapes involved.
  public let message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Shape-checked wrappers over the compute core for whole tensors: matrix products, row helpers,
/// activations and softmax cross-entropy. Matrices are rank-2 tensors `[rows, columns]`, row-major.
///
/// Each function checks the shapes, then calls the matching `RecurScalar` kernel (for `Float`, the
/// vectorized and, for large products, multi-threaded version).
public enum Kernels {
  // MARK: - Matrix products

  /// C = alpha · op(A) · op(B) + beta · C, in place.
  ///
  /// Shapes: op(A) is M × K, op(B) is K × N, C is M × N, where op(X) is Xᵀ when the matching
  /// `transpose` flag is set. With beta = 0, C's previous values are ignored (even NaN).
  /// - Throws: `KernelShapeError` when an operand is not a matrix or the shapes do not agree.
  public static func gemm<Scalar: RecurScalar>(
    _ a: Tensor<Scalar>, transposeA: Bool = false, _ b: Tensor<Scalar>, transposeB: Bool = false,
    alpha: Scalar = 1, beta: Scalar = 0, into c: inout Tensor<Scalar>
  ) throws {
    try requireMatrix(a, "gemm A")
    try requireMatrix(b, "gemm B")
    try requireMatrix(c, "gemm C")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb, c.shape == [m, n] else {
      throw KernelShapeError(
        "gemm: op(A) is \(m)x\(k), op(B) is \(kb)x\(n), C is \(c.shape.map(String.init).joined(separator: "x"))")
    }
    let (lda, ldb) = (a.shape[1], b.shape[1])
    a.scalars.withUnsafeBufferPointer { pa in
      b.scalars.withUnsafeBufferPointer { pb in
        c.scalars.withUnsafeMutableBufferPointer { pc in
          guard m > 0, n > 0 else { return }
          // Empty operands (k = 0) still need valid addresses.
          withValidAddress(pa) { aAddress in
            withValidAddress(pb) { bAddress in
              Scalar.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: aAddress, lda: max(lda, 1), b: bAddress, ldb: max(ldb, 1), beta: beta, c: pc.baseAddress!,
                ldc: n)
            }
          }
        }
      }
    }
  }

  /// The product op(A) · op(B) as a new M × N matrix.
  /// - Throws: `KernelShapeError` when the shapes do not agree.
  public static func matmul<Scalar: RecurScalar>(
    _ a: Tensor<Scalar>, transposeA: Bool = false, _ b: Tensor<Scalar>, transposeB: Bool = false
  ) throws -> Tensor<Scalar> {
    try requireMatrix(a, "matmul A")
    try requireMatrix(b, "matmul B")
    var c = Tensor<Scalar>(
      shape: [transposeA ? a.shape[1] : a.shape[0], transposeB ? b.shape[0] : b.shape[1]])
    try gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
  }

  /// y = alpha · op(A) · x + beta · y, in place: A is an M × N matrix, x and y are vectors of the matching
  /// lengths (N and M, or M and N when `transposeA`).
  /// - Throws: `KernelShapeError` when the lengths do not agree.
  public static func gemv<Scalar: RecurScalar>(
    _ a: Tensor<Scalar>, transposeA: Bool = false, _ x: Tensor<Scalar>, alpha: Scalar = 1, beta: Scalar = 0,
    into y: inout Tensor<Scalar>
  ) throws {
    try requireMatrix(a, "gemv A")
    let (m, n) = (a.shape[0], a.shape[1])
    let (inputs, outputs) = transposeA ? (m, n) : (n, m)
    guard x.count == inputs, y.count == outputs else {
      throw KernelShapeError(
        "gemv: A is \(m)x\(n)\(transposeA ? " (transposed)" : ""), x has \(x.count), y has \(y.count) elements")
    }
    guard outputs > 0 else { return }
    a.scalars.withUnsafeBufferPointer { pa in
      x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
          withValidAddress(pa) { aAddress in
            withValidAddress(px) { xAddress in
              Scalar.gemv(
                transposeA: transposeA, m: m, n: n, alpha: alpha, a: aAddress, lda: max(n, 1), x: xAddress,
                beta: beta, y: py.baseAddress!)
            }
          }
        }
      }
    }
  }

  // MARK: - Row helpers

  /// Adds `vector` (length N) to every row of the R × N matrix `c` (or sets every row to it when
  /// `replace`): the bias of a linear layer.
  /// - Throws: `KernelShapeError` when the lengths do not agree.
  public static func addRowVector<Scalar: RecurScalar>(
    _ vector: Tensor<Scalar>, to c: inout Tensor<Scalar>, replace: Bool = false
  ) throws {
    try requireMatrix(c, "addRowVector C")
    guard vector.count == c.shape[1] else {
      throw KernelShapeError("addRowVector: vector has \(vector.count) elements, C rows have \(c.shape[1])")
    }
    let (rows, width) = (c.shape[0], c.shape[1])
    guard rows > 0, width > 0 else { return }
    vector.scalars.withUnsafeBufferPointer { pv in
      c.scalars.withUnsafeMutableBufferPointer { pc in
        Scalar.addRowVector(
          rows: rows, width: width, vector: pv.baseAddress!, beta: replace ? 0 : 1, c: pc.baseAddress!, ldc: width)
      }
    }
  }

  /// Adds the column sums of the R × N matrix `a` to `out` (length N): the bias gradient of a linear layer.
  /// - Throws: `KernelShapeError` when the lengths do not agree.
  public static func sumRows<Scalar: RecurScalar>(_ a: Tensor<Scalar>, into out: inout Tensor<Scalar>) throws {
    try requireMatrix(a, "sumRows A")
    guard out.count == a.shape[1] else {
      throw KernelShapeError("sumRows: A rows have \(a.shape[1]) elements, out has \(out.count)")
    }
    let (rows, width) = (a.shape[0], a.shape[1])
    guard rows > 0, width > 0 else { return }
    a.scalars.withUnsafeBufferPointer { pa in
      out.scalars.withUnsafeMutableBufferPointer { po in
        Scalar.sumRows(rows: rows, width: width, a: pa.baseAddress!, lda: width, out: po.baseAddress!)
      }
    }
  }

  // MARK: - Activations and softmax

  /// act(x), element-wise, with the shape of `x`.
  public static func activate<Scalar: RecurScalar>(_ activation: Activation, _ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var y = Tensor<Scalar>(zerosLike: x)
    guard x.count > 0 else { return y }
    x.scalars.withUnsafeBufferPointer { px in
      y.scalars.withUnsafeMutableBufferPointer { py in
        Scalar.activate(activation, count: x.count, x: px.baseAddress!, y: py.baseAddress!)
      }
    }
    return y
  }

  /// Row-wise softmax of an N × V matrix of logits (numerically stable).
  /// - Throws: `KernelShapeError` when `logits` is not a matrix.
  public static func softmax<Scalar: RecurScalar>(_ logits: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try requireMatrix(logits, "softmax logits")
    var probabilities = Tensor<Scalar>(zerosLike: logits)
    guard logits.count > 0 else { return probabilities }
    logits.scalars.withUnsafeBufferPointer { pl in
      probabilities.scalars.withUnsafeMutableBufferPointer { pp in
        Scalar.softmax(rows: logits.shape[0], vocab: logits.shape[1], logits: pl.baseAddress!, probs: pp.baseAddress!)
      }
    }
    return probabilities
  }

  /// Softmax cross-entropy of N × V logits against N class indices: returns
  /// Σ_i w_i (logsumexp(logits_i) − logits_i[t_i]), skipping rows whose target is negative or whose weight
  /// is 0, and optionally writes the gradient scale · w_i · (softmax(logits_i) − onehot(t_i)).
  /// - Parameters:
  ///   - logits: N × V logits.
  ///   - targets: N class indices in 0 ..< V, or −1 for rows to skip (padding).
  ///   - weights: N row weights, or `nil` for all 1.
  ///   - scale: factor of the gradient, e.g. 1 / (number of counted rows) for a mean loss.
  ///   - gradient: if given, receives dL/dlogits (N × V); it is resized to the shape of `logits`.
  /// - Throws: `KernelShapeError` when the shapes disagree or a target is ≥ V.
  public static func softmaxCrossEntropy<Scalar: RecurScalar>(
    logits: Tensor<Scalar>, targets: [Int32], weights: Tensor<Scalar>? = nil, scale: Scalar = 1,
    gradient: inout Tensor<Scalar>?
  ) throws -> Double {
    try requireMatrix(logits, "softmaxCrossEntropy logits")
    let (rows, vocab) = (logits.shape[0], logits.shape[1])
    guard targets.count == rows, weights.map({ $0.count == rows }) ?? true else {
      throw KernelShapeError(
        "softmaxCrossEntropy: \(rows) rows of logits, \(targets.count) targets, \(weights?.count ?? rows) weights")
    }
    if let bad = targets.first(where: { Int($0) >= vocab }) {
      throw KernelShapeError("softmaxCrossEntropy: target \(bad) is not below the vocabulary size \(vocab)")
    }
    guard rows > 0, vocab > 0 else { return 0 }
    if gradient != nil, gradient?.shape != logits.shape { gradient = Tensor(zerosLike: logits) }
    let weightScalars = weights?.scalars
    return logits.scalars.withUnsafeBufferPointer { pl in
      targets.withUnsafeBufferPointer { pt in
        withOptionalBuffer(weightScalars) { pw in
          if gradient == nil {
            return Scalar.softmaxCrossEntropy(
              rows: rows, vocab: vocab, logits: pl.baseAddress!, targets: pt.baseAddress!, weights: pw, scale: scale,
              dlogits: nil)
          }
          return gradient!.scalars.withUnsafeMutableBufferPointer { pg in
            Scalar.softmaxCrossEntropy(
              rows: rows, vocab: vocab, logits: pl.baseAddress!, targets: pt.baseAddress!, weights: pw, scale: scale,
              dlogits: pg.baseAddress!)
          }
        }
      }
    }
  }

  // MARK: - Helpers

  private static func requireMatrix<Scalar>(_ t: Tensor<Scalar>, _ name: String) throws {
    guard t.shape.count == 2 else {
      throw KernelShapeError("\(name) must be a matrix (rank 2), got shape \(t.shape)")
    }
  }

  /// Calls `body` with the buffer's address, or with the address of a dummy element when it is empty.
  private static func withValidAddress<Scalar: RecurScalar, R>(
    _ buffer: UnsafeBufferPointer<Scalar>, _ body: (UnsafePointer<Scalar>) -> R
  ) -> R {
    if let address = buffer.baseAddress, buffer.count > 0 { return body(address) }
    var dummy = Scalar.zero
    return withUnsafePointer(to: &dummy) { body($0) }
  }

  private static func withOptionalBuffer<Scalar, R>(
    _ values: [Scalar]?, _ body: (UnsafePointer<Scalar>?) -> R
  ) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
  }
}

/// A dense, row-major array of scalars with a shape: the storage of every parameter, gradient, state and
/// activation in Recur.
///
/// Shapes follow the legend used throughout the library: `B` batch, `T` time steps, `H` hidden units,
/// `I` input features, `V` vocabulary size, `G` gates. A weight matrix `W^{sx}` of the chapter (m × ℓ)
/// is a tensor of shape `[m, ℓ]`; a bias `W^{ss}_0` (m × 1) has shape `[m]`.
public struct Tensor<Scalar: RecurScalar>: Sendable, Equatable {
  /// The size of each dimension, outermost first.
  public private(set) var shape: [Int]
  /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  public var scalars: [Scalar]

  /// A tensor of the given shape filled with `value`.
  public init(shape: [Int], repeating value: Scalar = 0) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
    self.shape = shape
    self.scalars = [Scalar](repeating: value, count: shape.reduce(1, *))
  }

  /// A tensor with the given shape and elements (row-major).
  public init(shape: [Int], scalars: [Scalar]) {
    precondition(
      shape.reduce(1, *) == scalars.count,
      "Tensor shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// A zero tensor with the same shape as `other`.
  public init(zerosLike other: Tensor) {
    self.init(shape: other.shape)
  }

  /// The number of elements.
  @inlinable public var count: Int { scalars.count }
  /// The number of rows of a matrix (the first dimension; 1 for a scalar).
  public var rows: Int { shape.first ?? 1 }
  /// The number of columns of a matrix: the product of all dimensions after the first.
  public var columns: Int { shape.count <= 1 ? (shape.first.map { _ in 1 } ?? 1) : shape.dropFirst().reduce(1, *) }

  /// Element `[row, column]` of a matrix.
  public subscript(row: Int, column: Int) -> Scalar {
    get { scalars[row * columns + column] }
    set { scalars[row * columns + column] = newValue }
  }

  /// Sets every element to zero, keeping the storage.
  public mutating func zero() {
    scalars.withUnsafeMutableBufferPointer { buffer in
      buffer.update(repeating: 0)
    }
  }

  /// The tensor converted to another precision.
  public func converted<Other: RecurScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
    Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
  }

  /// The Euclidean (Frobenius) norm of all elements, accumulated in Double.
  public var norm: Double {
    scalars.withUnsafeBufferPointer { buffer in
      // Concrete loops for the two precisions (the only RecurScalar types): the generic conversion to Double
      // is slow when unspecialized, and this runs over every gradient once per training step.
      Scalar.self == Float.self
        ? buffer.withMemoryRebound(to: Float.self) { sumOfSquares($0) }.squareRoot()
        : buffer.withMemoryRebound(to: Double.self) { sumOfSquares($0) }.squareRoot()
    }
  }
}

/// Σ x², accumulated in Double over four independent partial sums.
@_specialize(where T == Float)
@_specialize(where T == Double)
private func sumOfSquares<T: BinaryFloatingPoint>(_ buffer: UnsafeBufferPointer<T>) -> Double {
  var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
  var i = 0
  let n = buffer.count
  while i + 4 <= n {
    let a = Double(buffer[i]), b = Double(buffer[i + 1]), c = Double(buffer[i + 2]), d = Double(buffer[i + 3])
    s0 += a * a
    s1 += b * b
    s2 += c * c
    s3 += d * d
    i += 4
  }
  while i < n {
    let a = Double(buffer[i])
    s0 += a * a
    i += 1
  }
  return (s0 + s1) + (s2 + s3)
}

extension Tensor: CustomStringConvertible {
  public var description: String { "Tensor\(shape)" }
}

extension Tensor {
  /// Calls `body` with a pointer to the first element (the tensor must not be empty).
  @inlinable
  public func withPointer<R>(_ body: (UnsafePointer<Scalar>) throws -> R) rethrows -> R {
    try scalars.withUnsafeBufferPointer { try body($0.baseAddress!) }
  }

  /// Calls `body` with a mutable pointer to the first element (the tensor must not be empty).
  @inlinable
  public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Scalar>) throws -> R) rethrows -> R {
    try scalars.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
  }
}

extension SafeTensorsFile {
  /// A floating-point tensor converted to `Scalar` (round to nearest), with its shape.
  ///
  /// - Parameters:
  ///   - name: The tensor's name; its dtype is `F16`, `BF16`, `F32` or `F64`.
  ///   - _: The precision to read into (`Float` or `Double`).
  /// - Returns: A tensor of the stored shape.
  /// - Throws: `SafeTensorsError.tensorNotFound`, or `.dtypeMismatch` for an integer tensor.
  public func tensor<Scalar: RecurScalar>(named name: String, as _: Scalar.Type = Scalar.self)
    throws(SafeTensorsError) -> Tensor<Scalar>
  {
    let scalars = try floatingPointValues(named: name, as: Scalar.self)
    let shape = try requireEntry(named: name).shape
    return Tensor(shape: shape, scalars: scalars)
  }

  /// Adds a tensor, stored in `dtype` (rounded to nearest, ties to even).
  ///
  /// - Parameters:
  ///   - tensor: The tensor; its shape is stored as is.
  ///   - name: A name not yet used and other than `__metadata__` (PyTorch `state_dict` names such as
  ///     `rnn.weight_hh_l0` are the convention for parameters).
  ///   - dtype: `F16`, `BF16`, `F32` or `F64`; `nil` stores `Scalar` exactly (`F32` for `Float`, `F64` for
  ///     `Double`).
  /// - Throws: `SafeTensorsError.duplicateTensorName`, `.reservedName`, `.dtypeMismatch` for an integer
  ///   dtype.
  public mutating func add<Scalar: RecurScalar>(
    _ tensor: Tensor<Scalar>, named name: String, as dtype: SafeTensorsDType? = nil
  ) throws(SafeTensorsError) {
    let dtype = dtype ?? SafeTensorsDType(rawValue: Scalar.dtypeName) ?? .float64
    try add(floatingPoint: tensor.scalars, shape: tensor.shape, as: dtype, named: name)
  }
}

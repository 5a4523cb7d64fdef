/// The floating-point types Recur computes in: `Float` for training and inference (vectorized kernels)
/// and `Double` for exact gradient checks against finite differences. They are the only conforming types.
///
/// Generic code over either precision constrains its scalar to `RecurScalar`; the kernels of the compute core
/// behind it (matrix products, fused cell steps, softmax cross-entropy, the Adam update over raw pointers) are
/// internal to Recur, as the C library `_RecurKernels` they call.
public protocol RecurScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
  /// The safetensors dtype name of this type ("F32" or "F64").
  static var dtypeName: String { get }
}

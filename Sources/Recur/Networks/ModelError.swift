/// An error in building or using a network: a size, shape or option that does not fit. Its description is
/// one line naming the problem.
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What is wrong, in one line.
  /// The one-line message.
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

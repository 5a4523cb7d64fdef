/// An error whose description is one line naming the problem, as the command line prints it (`Error: …`).
public protocol MessageError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What is wrong, in one line.
  var message: String { get }
}

extension MessageError {
  public var description: String { message }
}

/// An error in building or using a network: a size, shape, input or target that does not fit. Its description
/// is one line naming the problem.
public struct ModelError: MessageError {
  /// The one-line message.
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
}

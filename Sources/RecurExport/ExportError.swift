/// An export that cannot be made: a model that the format cannot express, or a file that cannot be written
/// or read. The message is one line.
public struct ExportError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The one-line message.
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The built `recur` executable, run as a user runs it: a separate process with its own exit status, standard
/// output and standard error.
///
/// `swift test` builds every product of the package, the executable included, into the folder that holds the
/// test bundle (and the test target depends on the `recur` target, so a filtered build has it too); the
/// binary is found there, beside the bundle of test resources.
struct RecurProcess {
  /// What a finished run left behind.
  struct Result {
    /// The exit status, or nil when a signal ended the process.
    var status: Int32?
    /// The signal that ended the process, if one did.
    var signal: Int32?
    var standardOutput: String
    var standardError: String

    /// The lines of standard error, without the final newline.
    var errorLines: [Substring] { standardError.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
  }

  /// The executable beside the test bundle.
  static var executable: URL {
    Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("recur")
  }

  let process = Process()
  private let output = Pipe(), error = Pipe()

  /// Starts `recur arguments…` in `folder`; with `shell`, starts `/bin/sh -c shell recur arguments…` instead,
  /// a script that sets up the process (limits, signal dispositions) and ends with `exec "$0" "$@"`.
  init(_ arguments: [String], in folder: URL, shell: String? = nil) throws {
    try #require(
      FileManager.default.isExecutableFile(atPath: Self.executable.path),
      "the recur executable is not at \(Self.executable.path); build the package first")
    if let shell {
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", shell, Self.executable.path] + arguments
    } else {
      process.executableURL = Self.executable
      process.arguments = arguments
    }
    process.currentDirectoryURL = folder
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  /// Sends a signal to the running process.
  func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

  /// Waits for the process to end and collects what it printed.
  func wait() -> Result {
    // Read both pipes to the end before waiting, so a chatty process cannot block on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var out = Data(), err = Data()
    DispatchQueue.global().async(group: group) { out = output.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { err = error.fileHandleForReading.readDataToEndOfFile() }
    group.wait()
    process.waitUntilExit()
    let bySignal = process.terminationReason == .uncaughtSignal
    return Result(
      status: bySignal ? nil : process.terminationStatus, signal: bySignal ? process.terminationStatus : nil,
      standardOutput: String(decoding: out, as: UTF8.self), standardError: String(decoding: err, as: UTF8.self))
  }

  /// Runs `recur arguments…` in `folder` to the end.
  static func run(_ arguments: [String], in folder: URL, shell: String? = nil) throws -> Result {
    try RecurProcess(arguments, in: folder, shell: shell).wait()
  }
}

/// A fresh folder under the system's temporary folder, removed when the value is released.
final class ScratchFolder: @unchecked Sendable {
  let url: URL

  init(_ prefix: String) throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// The path of `name` in the folder.
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Writes `bytes` to `name` and returns its path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: url.appendingPathComponent(name))
    return path(name)
  }
}

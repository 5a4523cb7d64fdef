import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed atomic write. No temporary file is left behind, and the target is unchanged — except after a
/// failed `syncDirectory` step, when the new file is in place but its rename may not survive power loss.
public struct AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The step that failed.
  public enum Step: String, Sendable {
    /// Creating the temporary file next to the target.
    case createTemporary = "create a temporary file in"
    /// Writing the bytes to the temporary file.
    case write = "write"
    /// Flushing the temporary file to stable storage (`fsync`).
    case sync = "flush"
    /// Renaming the temporary file over the target.
    case rename = "replace"
    /// Flushing the folder so that the rename is durable.
    case syncDirectory = "sync the folder of"
    /// Reading, for `AtomicFile.read(from:)`.
    case read = "read"
  }

  /// The step that failed.
  public let step: Step
  /// The file being written.
  public let path: String
  /// The POSIX error number (`errno`) reported by the failing call.
  public let code: Int32

  public var description: String {
    let target = step == .createTemporary ? (path as NSString).deletingLastPathComponent : path
    return "cannot \(step.rawValue) \(target): \(String(cString: strerror(code)))"
  }
}

/// Whole-file writes that a crash, power loss or `kill -9` at any moment cannot leave half-done.
public enum AtomicFile {
  /// Replaces the file at `url` with `data` atomically.
  ///
  /// The data goes to a new temporary file in the same folder, which is flushed to disk (`fsync`) and
  /// renamed over `url`; then the folder is flushed so that the rename itself is durable. A reader sees
  /// either the old file or the new one, whole. On failure the temporary file is removed and the old file
  /// is left as it was (see `AtomicFileError` for the one exception, a failed folder sync). An existing file's permission bits are kept; a new file gets `0666 & ~umask`.
  ///
  /// - Parameters:
  ///   - data: The complete new contents.
  ///   - url: A file URL whose folder exists and is writable.
  /// - Throws: `AtomicFileError` naming the failed step and the system's reason (for example no space left
  ///   on device, read-only file system, no such file or directory).
  public static func write(_ data: Data, to url: URL) throws(AtomicFileError) {
    try write(data, to: url, failingAt: nil)
  }

  /// `write(_:to:)` with a step made to fail with `EIO`, for testing the recovery paths.
  static func write(_ data: Data, to url: URL, failingAt injected: AtomicFileError.Step?) throws(AtomicFileError) {
    let path = url.path
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    func failure(_ step: AtomicFileError.Step, _ code: Int32 = errno) -> AtomicFileError {
      AtomicFileError(step: step, path: path, code: code)
    }

    var existing = stat()
    let mode: mode_t = stat(path, &existing) == 0 ? existing.st_mode & 0o7777 : 0o666

    // Create a fresh temporary file next to the target (same file system, so rename is atomic).
    var temporaryPath = ""
    var descriptor: Int32 = -1
    if injected == .createTemporary { throw failure(.createTemporary, EIO) }
    for _ in 0..<16 {
      let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
      temporaryPath = (directory.isEmpty ? "" : directory + "/") + ".\(name).\(suffix).tmp"
      descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
      if descriptor >= 0 || errno != EEXIST { break }
    }
    guard descriptor >= 0 else { throw failure(.createTemporary) }

    func abandon(_ error: AtomicFileError) -> AtomicFileError {
      if descriptor >= 0 { close(descriptor) }
      unlink(temporaryPath)
      return error
    }

    // Keep the permission bits of the file being replaced (open applied the umask to them).
    if fchmod(descriptor, mode) != 0 { throw abandon(failure(.write)) }

    // Write everything, resuming after partial writes and interrupted calls.
    let writeCode: Int32 = data.withUnsafeBytes { raw -> Int32 in
      if injected == .write { return EIO }
      var offset = 0
      while offset < raw.count {
        guard let base = raw.baseAddress else { return 0 }
        let written = systemWrite(descriptor, base + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += written
      }
      return 0
    }
    if writeCode != 0 { throw abandon(failure(.write, writeCode)) }

    if injected == .sync { throw abandon(failure(.sync, EIO)) }
    if fsync(descriptor) != 0 { throw abandon(failure(.sync)) }
    let closed = close(descriptor)
    descriptor = -1
    if closed != 0 { throw abandon(failure(.sync)) }

    if injected == .rename { throw abandon(failure(.rename, EIO)) }
    if rename(temporaryPath, path) != 0 { throw abandon(failure(.rename)) }

    // Make the rename durable. Some file systems cannot sync a folder (EINVAL); the data is then as
    // durable as that file system allows.
    if injected == .syncDirectory { throw failure(.syncDirectory, EIO) }
    let folder = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard folder >= 0 else { throw failure(.syncDirectory) }
    defer { close(folder) }
    if fsync(folder) != 0 && errno != EINVAL && errno != ENOTSUP { throw failure(.syncDirectory) }
  }
}

extension AtomicFile {
  /// The whole contents of a file, read with plain system calls so that failures carry their `errno`.
  ///
  /// - Throws: `AtomicFileError` with step `.read` (for example no such file, is a directory).
  public static func read(from url: URL) throws(AtomicFileError) -> Data {
    let path = url.path
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw AtomicFileError(step: .read, path: path, code: errno) }
    defer { close(descriptor) }
    var data = Data()
    var status = stat()
    if fstat(descriptor, &status) == 0, status.st_size > 0 { data.reserveCapacity(Int(status.st_size)) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { buffer in systemRead(descriptor, buffer.baseAddress, buffer.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw AtomicFileError(step: .read, path: path, code: errno)
      }
      if count == 0 { return data }
      data.append(contentsOf: chunk[0..<count])
    }
  }
}

/// The C library's `read(2)`, named apart from `AtomicFile.read`.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
  #if canImport(Glibc)
    Glibc.read(descriptor, buffer, count)
  #elseif canImport(Musl)
    Musl.read(descriptor, buffer, count)
  #else
    Darwin.read(descriptor, buffer, count)
  #endif
}

/// The C library's `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
  #elseif canImport(Musl)
    Musl.write(descriptor, buffer, count)
  #else
    Darwin.write(descriptor, buffer, count)
  #endif
}

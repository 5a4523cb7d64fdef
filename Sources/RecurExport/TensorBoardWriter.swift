import Foundation
import Recur
import SwiftProtobuf

/// Writes a TensorBoard event file: scalars (shown in TensorBoard's Scalars tab) and text (its Text tab), one
/// record per call, written at once so that a run that crashes leaves a readable file up to its last record.
///
/// The file is `DIR/events.out.tfevents.<seconds since 1970>.<host>`, a sequence of TFRecord records:
///
///     uint64 length, uint32 masked CRC-32C of the length, data (a serialized `tensorboard.Event`),
///     uint32 masked CRC-32C of the data            (all little-endian; see ``CRC32C``)
///
/// The first record carries `file_version = "brain.Event:2"`.
public final class TensorBoardWriter {
  /// The event file being written.
  public let url: URL
  private let handle: FileHandle

  /// Creates `directory` if needed and starts a new event file in it.
  ///
  /// - Throws: ``ExportError`` when the directory or the file cannot be created.
  public init(directory: URL, wallTime: Date = Date(), host: String = ProcessInfo.processInfo.hostName) throws {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw ExportError("cannot create the TensorBoard directory \(directory.path)")
    }
    let seconds = Int(wallTime.timeIntervalSince1970)
    url = directory.appendingPathComponent("events.out.tfevents.\(seconds).\(host.isEmpty ? "localhost" : host)")
    guard FileManager.default.createFile(atPath: url.path, contents: nil),
      let handle = try? FileHandle(forWritingTo: url)
    else {
      throw ExportError("cannot create the TensorBoard event file \(url.path)")
    }
    self.handle = handle
    var event = Tensorboard_Event()
    event.wallTime = wallTime.timeIntervalSince1970
    event.fileVersion = "brain.Event:2"
    try write(event)
  }

  deinit { try? handle.close() }

  /// A scalar `value` of series `tag` at `step`: a summary value's `simple_value` (a 32-bit float, as
  /// TensorBoard's scalars are).
  public func scalar(_ tag: String, _ value: Double, step: Int, wallTime: Date = Date()) throws {
    try scalars([(tag, value)], step: step, wallTime: wallTime)
  }

  /// Several scalars of one step in one record.
  public func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Date = Date()) throws {
    let summaryValues = values.map { pair in
      Tensorboard_Summary.Value.with {
        $0.tag = pair.tag
        $0.simpleValue = Float(pair.value)
      }
    }
    try write(summary: summaryValues, step: step, wallTime: wallTime)
  }

  /// Text (Markdown, as TensorBoard's text plugin renders it) under `tag` at `step`: a summary value whose
  /// metadata names the `text` plugin and whose tensor is one string.
  public func text(_ tag: String, _ text: String, step: Int, wallTime: Date = Date()) throws {
    let value = Tensorboard_Summary.Value.with {
      $0.tag = tag
      $0.metadata.pluginData.pluginName = "text"
      $0.metadata.dataClass = .tensor
      $0.tensor.dtype = .dtString
      $0.tensor.tensorShape = Tensorboard_TensorShapeProto()
      $0.tensor.stringVal = [Data(text.utf8)]
    }
    try write(summary: [value], step: step, wallTime: wallTime)
  }

  /// Forces the records written so far to the disk.
  public func synchronize() throws {
    do { try handle.synchronize() } catch { throw ExportError("cannot write \(url.path): \(error.localizedDescription)") }
  }

  private func write(summary values: [Tensorboard_Summary.Value], step: Int, wallTime: Date) throws {
    var event = Tensorboard_Event()
    event.wallTime = wallTime.timeIntervalSince1970
    event.step = Int64(step)
    event.summary.value = values
    try write(event)
  }

  private func write(_ event: Tensorboard_Event) throws {
    let data: Data
    do { data = try event.serializedData() } catch { throw ExportError("cannot encode a TensorBoard event: \(error)") }
    do { try handle.write(contentsOf: Self.record(data)) } catch {
      throw ExportError("cannot write \(url.path): \(error.localizedDescription)")
    }
  }

  /// One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
  public static func record(_ data: Data) -> Data {
    var out = Data(capacity: data.count + 16)
    let length = UInt64(data.count).littleEndian
    let lengthBytes = withUnsafeBytes(of: length) { Data($0) }
    out.append(lengthBytes)
    withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(lengthBytes)).littleEndian) { out.append(contentsOf: $0) }
    out.append(data)
    withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { out.append(contentsOf: $0) }
    return out
  }
}

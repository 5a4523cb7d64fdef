import Foundation

/// The processes of a data-parallel run and the collective operations the ``Trainer`` needs between them.
///
/// Every process (a *rank*, 0 ..< ``size``) runs the same program on its share of each batch; the only
/// communication is the sum of equal-length number arrays on every rank (an allreduce), a copy of bytes from
/// rank 0 to the others (a broadcast), and a way to end all ranks at once. ``SingleProcess`` is the one-rank
/// case (every operation is the identity); `MPICommunicator` (built with the package's `MPI` trait) runs
/// them over the MPI C API. The trainer's code is the same for one rank or N.
///
/// Every rank must call the collective operations in the same order with arrays of the same length.
public protocol Communicator: AnyObject, Sendable {
  /// This process's rank, 0 ..< ``size``; rank 0 prints and writes files.
  var rank: Int { get }
  /// N, the number of ranks.
  var size: Int { get }
  /// Replaces `values` on every rank by their element-wise sum over all ranks.
  func allreduceSum(_ values: inout [Float]) throws
  /// Replaces `values` on every rank by their element-wise sum over all ranks.
  func allreduceSum(_ values: inout [Double]) throws
  /// Starts summing `values` over all ranks without waiting; ``ReductionRequest/wait()`` completes it and
  /// returns the sums. Until then the reduction runs while the caller computes.
  func startAllreduceSum(_ values: [Float]) throws -> ReductionRequest<Float>
  /// Starts summing `values` over all ranks without waiting (see the `Float` version).
  func startAllreduceSum(_ values: [Double]) throws -> ReductionRequest<Double>
  /// Replaces `bytes` on every rank by rank `root`'s (every rank passes the same count).
  func broadcast(_ bytes: inout [UInt8], root: Int) throws
  /// Waits until every rank has called it.
  func barrier() throws
  /// Ends every rank at once with the given exit status (for an error that only some ranks see).
  func abort(status: Int32) -> Never
}

/// A reduction started by a communicator's `startAllreduceSum`, completed by ``wait()``.
public final class ReductionRequest<Element: Sendable>: @unchecked Sendable {
  private var completion: (() throws -> [Element])?
  private var result: [Element]?

  /// A request that ``wait()`` completes by calling `completion` once.
  public init(completion: @escaping () throws -> [Element]) { self.completion = completion }

  /// Waits for the reduction and returns the element-wise sums over all ranks.
  public func wait() throws -> [Element] {
    if let result { return result }
    let values = try completion!()
    completion = nil
    result = values
    return values
  }
}

/// A failed collective operation.
public struct CommunicationError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What failed and why.
  public var message: String
  /// An error with the given message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The single-process run: rank 0 of 1, every collective operation leaves its values as they are.
public final class SingleProcess: Communicator {
  /// The one rank.
  public init() {}
  public var rank: Int { 0 }
  public var size: Int { 1 }
  public func allreduceSum(_ values: inout [Float]) throws {}
  public func allreduceSum(_ values: inout [Double]) throws {}
  public func startAllreduceSum(_ values: [Float]) throws -> ReductionRequest<Float> {
    ReductionRequest { values }
  }
  public func startAllreduceSum(_ values: [Double]) throws -> ReductionRequest<Double> {
    ReductionRequest { values }
  }
  public func broadcast(_ bytes: inout [UInt8], root: Int) throws {}
  public func barrier() throws {}
  public func abort(status: Int32) -> Never { exit(status) }
}

extension Communicator {
  /// The element-wise sum over all ranks of generic scalars (`Float` or `Double`).
  func allreduceSum<S: RecurScalar>(_ values: inout [S]) throws {
    if size == 1 { return }
    if S.self == Float.self {
      var v = values as! [Float]
      try allreduceSum(&v)
      values = v as! [S]
    } else {
      var v = values.map { Double($0) }
      try allreduceSum(&v)
      values = v.map { S($0) }
    }
  }

  /// Rank 0's bytes on every rank.
  func broadcastFromRoot(_ bytes: [UInt8]) throws -> [UInt8] {
    var count = [Double(bytes.count)]
    if rank != 0 { count = [0] }
    if size == 1 { return bytes }
    try allreduceSum(&count)
    var buffer = rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
    try broadcast(&buffer, root: 0)
    return buffer
  }

  /// Checks that every rank was started alike: each names its settings (`name`, a value as text); rank 0's
  /// are sent to all and compared by name.
  ///
  /// - Throws: ``CommunicationError`` naming the first setting in which some rank differs from rank 0, on
  ///   every rank.
  public func checkSameSettings(_ settings: [(name: String, value: String)]) throws {
    guard size > 1 else { return }
    let mine = settings.map { "\($0.name)\u{1}\($0.value)" }.joined(separator: "\u{0}")
    let root = String(decoding: try broadcastFromRoot(Array(mine.utf8)), as: UTF8.self)
    // A setting given twice counts with its last value (as a repeated command-line option does).
    var rootSettings: [(name: String, value: String)] = []
    var rootIndex: [String: Int] = [:]
    for item in root.split(separator: "\u{0}") {
      let parts = item.split(separator: "\u{1}", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(parts[0]), value = parts.count > 1 ? String(parts[1]) : ""
      if let i = rootIndex[name] { rootSettings[i].value = value } else {
        rootIndex[name] = rootSettings.count
        rootSettings.append((name, value))
      }
    }
    // Per setting of rank 0: 1 when this rank's value differs (or it lacks the setting); the last entry: 1 when
    // this rank has a setting rank 0 lacks. Summed, every rank learns which settings differ.
    var values: [String: String] = [:]
    for s in settings { values[s.name] = s.value }
    var differs = rootSettings.map { values[$0.name] == $0.value ? 0.0 : 1.0 }
    differs.append(settings.contains { rootIndex[$0.name] == nil } ? 1 : 0)
    try allreduceSum(&differs)
    if let i = differs.indices.first(where: { differs[$0] > 0 }) {
      let what = i < rootSettings.count ? "a different \(rootSettings[i].name) than rank 0" : "options rank 0 was not given"
      throw CommunicationError(
        "\(Int(differs[i])) of \(size) ranks were started with \(what); start every rank with the same options and files")
    }
  }
}

/// A fingerprint of bytes (FNV-1a, 64 bits) as 16 hexadecimal digits: equal bytes, equal text.
public func fingerprint(_ bytes: some Sequence<UInt8>) -> String {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  for b in bytes {
    h ^= UInt64(b)
    h = h &* 0x100_0000_01b3
  }
  return String(h, radix: 16)
}

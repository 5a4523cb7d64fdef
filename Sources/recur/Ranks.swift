import Foundation
import Recur

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The processes this run is one of: one, or the ranks of an `mpirun` job when the tool is built with the
/// package's `MPI` trait. Rank 0 alone prints (standard output and errors) and writes files.
enum Ranks {
  /// The communicator of this process, set up by ``start()``.
  nonisolated(unsafe) private(set) static var communicator: any Communicator = SingleProcess()

  /// Whether training overlaps the gradient's reduction with BPTT (``Trainer/overlapsCommunication``): on
  /// unless the environment sets `RECUR_MPI_OVERLAP=0` (to measure what the overlap saves).
  static var overlapsCommunication: Bool { ProcessInfo.processInfo.environment["RECUR_MPI_OVERLAP"] != "0" }

  /// Whether this process prints and writes files: rank 0 (of the job, or, in a build without MPI started by
  /// a launcher, of the launcher's numbering).
  static var isPrimary: Bool { communicator.size > 1 ? communicator.rank == 0 : launchedRank == 0 }

  /// The number of ranks an MPI launcher says this job has (1 when not launched by one).
  static var launchedSize: Int {
    let environment = ProcessInfo.processInfo.environment
    for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"] {
      if let value = environment[key].flatMap(Int.init) { return value }
    }
    return 1
  }

  /// The rank an MPI launcher gives this process (0 when not launched by one).
  static var launchedRank: Int {
    let environment = ProcessInfo.processInfo.environment
    for key in ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"] {
      if let value = environment[key].flatMap(Int.init) { return value }
    }
    return 0
  }

  /// Joins the MPI job when launched by `mpirun` (and built with MPI); silences standard output on ranks
  /// other than 0.
  ///
  /// - Throws: ``CLIError`` when launched as several ranks by a tool built without MPI (each would train
  ///   alone and overwrite the others' files).
  static func start() throws {
    #if MPI
      if MPICommunicator.isLaunchedByMPI {
        communicator = try oneLine("MPI") { try MPICommunicator.shared() }
      }
    #else
      if launchedSize > 1 {
        if launchedRank != 0 { silenceOutput() }
        throw CLIError(
          "this recur was built without MPI but started as \(launchedSize) ranks; build it with `swift build -c release --traits MPI`")
      }
    #endif
    if !isPrimary { silenceOutput() }
  }

  /// Ends the MPI job's use of MPI in this process.
  static func finish() {
    #if MPI
      if MPICommunicator.isLaunchedByMPI { MPICommunicator.finalize() }
    #endif
  }

  /// Sends standard output to /dev/null (ranks other than 0 print nothing).
  private static func silenceOutput() {
    let null = open("/dev/null", O_WRONLY)
    if null >= 0 {
      dup2(null, STDOUT_FILENO)
      close(null)
    }
  }

  /// Refuses a global batch that the ranks cannot share equally.
  static func checkBatch(_ batchSize: Int, option: String = "--batch-size") throws {
    let n = communicator.size
    guard n > 1 else { return }
    guard batchSize % n == 0 else {
      throw CLIError("\(option) \(batchSize) is not divisible by the \(n) ranks; use a multiple of \(n)")
    }
  }

  /// The settings every rank must share for a run: each option of the command line as given, and digests
  /// of the files it reads.
  static func sharedSettings(files: [(name: String, bytes: [UInt8])]) -> [(name: String, value: String)] {
    sharedSettings(digests: files.map { ($0.name, fingerprint($0.bytes)) })
  }

  /// The settings every rank must share: each option of the command line as given, and the digests of the
  /// files it reads.
  static func sharedSettings(digests: [(name: String, digest: String)]) -> [(name: String, value: String)] {
    var settings: [(name: String, value: String)] = []
    let arguments = Array(CommandLine.arguments.dropFirst())
    var i = 0
    var positional = 0
    while i < arguments.count {
      let argument = arguments[i]
      if argument.hasPrefix("--") {
        if let eq = argument.firstIndex(of: "=") {
          settings.append((String(argument[..<eq]), String(argument[argument.index(after: eq)...])))
        } else if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") {
          settings.append((argument, arguments[i + 1]))
          i += 1
        } else {
          settings.append((argument, "set"))
        }
      } else {
        settings.append(("argument \(positional + 1)", argument))
        positional += 1
      }
      i += 1
    }
    for file in digests { settings.append(("content of \(file.name)", file.digest)) }
    return settings
  }
}

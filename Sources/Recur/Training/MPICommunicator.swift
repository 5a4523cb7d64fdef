#if MPI
  import Foundation
  import _RecurMPI

  /// The ranks of an MPI job (`mpirun -np N …`) as a ``Communicator``, over MPI_COMM_WORLD through the standard
  /// MPI C API (Open MPI or MPICH). Available when the package is built with the `MPI` trait.
  ///
  /// MPI is initialised once per process (``shared()``) and finalised by ``finalize()``; errors of collective
  /// operations are returned as ``CommunicationError`` rather than ending the process, and a rank that dies
  /// makes `mpirun` end the others.
  public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int

    private init() throws {
      let rc = recur_mpi_init()
      guard rc == 0 else { throw CommunicationError("MPI_Init failed: \(Self.message(rc))") }
      rank = Int(recur_mpi_rank())
      size = Int(recur_mpi_size())
    }

    nonisolated(unsafe) private static var instance: MPICommunicator?
    private static let lock = NSLock()

    /// The process's communicator, initialising MPI on first use.
    public static func shared() throws -> MPICommunicator {
      lock.lock()
      defer { lock.unlock() }
      if let instance { return instance }
      let made = try MPICommunicator()
      instance = made
      return made
    }

    /// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`): its environment
    /// names a rank.
    public static var isLaunchedByMPI: Bool {
      let environment = ProcessInfo.processInfo.environment
      return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"].contains {
        environment[$0] != nil
      }
    }

    /// Ends MPI in this process (call once, after the last collective operation).
    public static func finalize() {
      _ = recur_mpi_finalize()
    }

    private static func message(_ code: Int32) -> String {
      var buffer = [CChar](repeating: 0, count: 512)
      recur_mpi_error_string(code, &buffer, Int32(buffer.count))
      return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func check(_ rc: Int32, _ what: String) throws {
      guard rc == 0 else { throw CommunicationError("\(what) failed on rank \(rank): \(Self.message(rc))") }
    }

    public func allreduceSum(_ values: inout [Float]) throws {
      try check(values.withUnsafeMutableBufferPointer { recur_mpi_allreduce_sum_float($0.baseAddress, $0.count) }, "MPI_Allreduce")
    }

    public func allreduceSum(_ values: inout [Double]) throws {
      try check(values.withUnsafeMutableBufferPointer { recur_mpi_allreduce_sum_double($0.baseAddress, $0.count) }, "MPI_Allreduce")
    }

    /// A buffer whose address stays fixed while MPI reduces into it.
    private final class Pinned<Element> {
      let pointer: UnsafeMutableBufferPointer<Element>
      init(_ values: [Element]) {
        pointer = .allocate(capacity: values.count)
        _ = pointer.initialize(from: values)
      }
      deinit { pointer.deallocate() }
    }

    public func startAllreduceSum(_ values: [Float]) throws -> ReductionRequest<Float> {
      let buffer = Pinned(values)
      let id = recur_mpi_iallreduce_sum_float(buffer.pointer.baseAddress, buffer.pointer.count)
      guard id >= 0 else { throw CommunicationError("MPI_Iallreduce failed on rank \(rank)") }
      return ReductionRequest { [self] in
        try check(recur_mpi_wait(id), "MPI_Wait")
        return Array(buffer.pointer)
      }
    }

    public func startAllreduceSum(_ values: [Double]) throws -> ReductionRequest<Double> {
      let buffer = Pinned(values)
      let id = recur_mpi_iallreduce_sum_double(buffer.pointer.baseAddress, buffer.pointer.count)
      guard id >= 0 else { throw CommunicationError("MPI_Iallreduce failed on rank \(rank)") }
      return ReductionRequest { [self] in
        try check(recur_mpi_wait(id), "MPI_Wait")
        return Array(buffer.pointer)
      }
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {
      try check(bytes.withUnsafeMutableBytes { recur_mpi_broadcast($0.baseAddress, $0.count, Int32(root)) }, "MPI_Bcast")
    }

    public func barrier() throws {
      try check(recur_mpi_barrier(), "MPI_Barrier")
    }

    public func abort(status: Int32) -> Never {
      recur_mpi_abort(status)
      exit(status)
    }
  }

  extension MPICommunicator: InPlaceReducing {
    func startAllreduceSum<S: RecurScalar>(inPlace values: UnsafeMutablePointer<S>, count: Int) throws -> Int {
      let id =
        S.self == Float.self
        ? values.withMemoryRebound(to: Float.self, capacity: count) { recur_mpi_iallreduce_sum_float($0, count) }
        : values.withMemoryRebound(to: Double.self, capacity: count) { recur_mpi_iallreduce_sum_double($0, count) }
      guard id >= 0 else { throw CommunicationError("MPI_Iallreduce failed on rank \(rank)") }
      return Int(id)
    }

    func progress(_ request: Int) {
      _ = recur_mpi_test(Int32(request))
    }

    func wait(_ request: Int) throws {
      try check(recur_mpi_wait(Int32(request)), "MPI_Wait")
    }
  }
#endif

import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A request to stop training, safe to set from any thread (a signal handler's queue, a progress callback, a
/// test) and polled by the ``Trainer`` between steps: the current step finishes, a checkpoint is saved, and
/// the run returns normally.
public final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var requests = 0

  /// A flag with no stop requested.
  public init() {}

  /// Asks the run to stop after its current step.
  ///
  /// - Returns: how many stops have been requested so far, this one included.
  @discardableResult
  public func requestStop() -> Int {
    lock.lock()
    defer { lock.unlock() }
    requests += 1
    return requests
  }

  /// Whether a stop has been requested.
  public var isStopRequested: Bool {
    lock.lock()
    defer { lock.unlock() }
    return requests > 0
  }

  /// Routes SIGINT (Ctrl-C) to this flag: the first interrupt requests a stop and calls `onFirstInterrupt`
  /// (for a message such as "stopping after this step"); a second one ends the process at once with status
  /// 130. The returned handler restores the default SIGINT action when it is cancelled or released.
  ///
  /// The flag is set and the callback called on a private dispatch queue, never inside the signal handler,
  /// so the flag is the only state shared with the training thread.
  ///
  /// With `terminate`, SIGTERM is routed the same way: `mpirun` answers Ctrl-C by sending SIGTERM to every
  /// rank (and SIGKILL a moment later), so a rank of an MPI job stops at the next step boundary and saves.
  public func handleInterrupts(
    terminate: Bool = false, onFirstInterrupt: @escaping @Sendable () -> Void = {}
  ) -> InterruptHandler {
    InterruptHandler(flag: self, terminate: terminate, onFirst: onFirstInterrupt)
  }
}

/// The number of SIGINTs received while an ``InterruptHandler`` is installed, and the pipe its signal handler
/// writes to. Only the C signal handler writes the count (a signal is blocked while its own handler runs).
nonisolated(unsafe) private var interruptCount = 0
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1

/// The process's SIGINT handler: async-signal-safe work only (a counter, `write`, `_exit`).
private func receiveInterrupt(_: Int32) {
  interruptCount += 1
  if interruptCount >= 2 { _exit(130) }
  var byte: UInt8 = 1
  _ = write(interruptPipeWrite, &byte, 1)
}

/// An installed SIGINT route to a ``StopFlag`` (see ``StopFlag/handleInterrupts(terminate:onFirstInterrupt:)``). There
/// is one SIGINT disposition per process: install one handler at a time.
///
/// The C signal handler only counts the signal and writes a byte to a pipe; a `DispatchSource` reading the
/// pipe sets the flag and calls the callback on an ordinary thread.
public final class InterruptHandler: @unchecked Sendable {
  private let source: any DispatchSourceRead
  private let readEnd: Int32, writeEnd: Int32
  private let lock = NSLock()
  private var cancelled = false
  /// The installing thread and its signal mask before SIGINT was unblocked in it.
  private let installer = pthread_self()
  private var previousMask = sigset_t()

  private let terminate: Bool

  init(flag: StopFlag, terminate: Bool, onFirst: @escaping @Sendable () -> Void) {
    self.terminate = terminate
    var fds: [Int32] = [-1, -1]
    if pipe(&fds) != 0 { fds = [-1, -1] }
    readEnd = fds[0]
    writeEnd = fds[1]
    source = DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: DispatchQueue(label: "recur.sigint"))
    let readEnd = self.readEnd
    source.setEventHandler {
      var byte: UInt8 = 0
      guard read(readEnd, &byte, 1) == 1 else { return }
      flag.requestStop()
      onFirst()
    }
    source.resume()
    interruptCount = 0
    interruptPipeWrite = writeEnd
    signal(SIGINT, receiveInterrupt)
    if terminate { signal(SIGTERM, receiveInterrupt) }
    // A process can start with SIGINT blocked in every thread (it inherits the mask of the thread that
    // spawned it, as with Foundation's `Process`); the signal would then stay pending for ever. Unblock it in
    // this thread so that some thread takes it.
    var interrupt = sigset_t()
    sigemptyset(&interrupt)
    sigaddset(&interrupt, SIGINT)
    if terminate { sigaddset(&interrupt, SIGTERM) }
    pthread_sigmask(SIG_UNBLOCK, &interrupt, &previousMask)
  }

  /// Stops routing SIGINT and restores its default action (ending the process), and, when called on the
  /// installing thread, that thread's signal mask.
  public func cancel() {
    lock.lock()
    defer { lock.unlock() }
    guard !cancelled else { return }
    cancelled = true
    // Ignoring first discards an interrupt still pending in a thread that blocks it.
    signal(SIGINT, SIG_IGN)
    signal(SIGINT, SIG_DFL)
    if terminate { signal(SIGTERM, SIG_DFL) }
    if pthread_equal(pthread_self(), installer) != 0 { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
    source.cancel()
    close(writeEnd)
    close(readEnd)
  }

  deinit { cancel() }
}

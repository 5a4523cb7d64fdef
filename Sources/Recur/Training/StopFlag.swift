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
  /// The signal is delivered through a `DispatchSource` on a private queue (never in an async signal
  /// handler), so the flag is the only state shared with the training thread.
  public func handleInterrupts(onFirstInterrupt: @escaping @Sendable () -> Void = {}) -> InterruptHandler {
    InterruptHandler(flag: self, onFirst: onFirstInterrupt)
  }
}

/// An installed SIGINT route to a ``StopFlag`` (see ``StopFlag/handleInterrupts(onFirstInterrupt:)``).
public final class InterruptHandler: @unchecked Sendable {
  private let source: any DispatchSourceSignal
  private let lock = NSLock()
  private var cancelled = false

  init(flag: StopFlag, onFirst: @escaping @Sendable () -> Void) {
    // The default action would end the process before the dispatch source sees the signal.
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "recur.sigint"))
    source.setEventHandler {
      if flag.requestStop() == 1 {
        onFirst()
      } else {
        _exit(130)
      }
    }
    source.resume()
  }

  /// Stops routing SIGINT and restores its default action (ending the process).
  public func cancel() {
    lock.lock()
    defer { lock.unlock() }
    guard !cancelled else { return }
    cancelled = true
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }

  deinit { cancel() }
}

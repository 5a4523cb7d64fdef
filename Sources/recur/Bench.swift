import ArgumentParser
import Dispatch
import Foundation
import Recur

/// A measurable workload of `recur bench`: one repetition runs it long enough to time and returns its
/// figure in `unit` (a speed such as GFLOP/s or tokens/s, where higher is better, or a cost such as ms or
/// MiB, where lower is better).
protocol BenchWorkload {
  /// The workload's name, e.g. "gemm-32x512x2048-nt"; `recur bench` selects workloads by name or prefix.
  var name: String { get }
  /// The unit of the measured figure, e.g. "GFLOP/s" or "tokens/s" (higher is better), "ms" or "MiB"
  /// (lower is better).
  var unit: String { get }
  /// One line saying what is measured.
  var summary: String { get }
  /// Prepares the inputs and returns a closure that runs one repetition on `threads` threads and returns
  /// its figure.
  func prepare(threads: Int) throws -> () -> Double
}

/// Every workload `recur bench` knows, in the order they run. New families of workloads add their list here.
enum BenchRegistry {
  static var workloads: [any BenchWorkload] {
    GEMMWorkload.all + TrainingWorkload.all + [GenerationWorkload()] + LSTMLayerWorkload.all + [MemoryWorkload()]
  }

  /// The workloads whose name equals or starts with one of `patterns` (all when `patterns` is empty); a
  /// pattern `lstm-layer-H-B-T` names that shape even when it is not in the list.
  static func select(_ patterns: [String]) throws -> [any BenchWorkload] {
    if patterns.isEmpty { return workloads }
    var selected: [any BenchWorkload] = []
    for pattern in patterns {
      let matching = workloads.filter { $0.name.hasPrefix(pattern) }
      if !matching.isEmpty {
        selected += matching.filter { workload in !selected.contains { $0.name == workload.name } }
      } else if let shape = LSTMLayerWorkload(name: pattern) {
        if !selected.contains(where: { $0.name == shape.name }) { selected.append(shape) }
      } else {
        throw CLIError("no benchmark workload is named or starts with '\(pattern)' (see recur bench --list)")
      }
    }
    return selected
  }
}

/// Times `body` until it has run at least `minimumSeconds` (and at least once); returns calls per second.
func benchCallsPerSecond(minimumSeconds: Double, _ body: () -> Void) -> Double {
  var calls = 0
  let start = DispatchTime.now().uptimeNanoseconds
  var elapsed = 0.0
  repeat {
    body()
    calls += 1
    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  } while elapsed < minimumSeconds
  return Double(calls) / elapsed
}

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure the speed of Recur's kernels and workloads.",
    discussion: """
      Runs each selected workload for a number of timed repetitions and prints the median, minimum and \
      maximum. Workloads are chosen by name or name prefix: `recur bench gemm` runs every GEMM shape, \
      `recur bench train` every training workload; `lstm-layer-H-B-T` runs any LSTM layer shape. Units: \
      GFLOP/s and tokens/s (higher is better), ms and MiB (lower is better).
      """
  )

  @Argument(help: "Workload names or prefixes (default: all). See --list.")
  var workloads: [String] = []

  @Flag(help: "List the workloads and exit.")
  var list = false

  @Flag(help: "Print one JSON object per workload and line instead of a table, with the machine (CPU model, the kernels' instruction set, cores and processors).")
  var json = false

  @Option(help: "Threads to run on (default: the compute thread count).")
  var threads: Int?

  @Option(help: "Timed repetitions per workload.")
  var repetitions = 5

  @Option(help: .hidden)
  var memoryChild: String?

  func validate() throws {
    if let threads, threads < 1 { throw CLIError("--threads must be at least 1, got \(threads)") }
    if repetitions < 1 { throw CLIError("--repetitions must be at least 1, got \(repetitions)") }
  }

  func run() throws {
    if let memoryChild {
      try MemoryWorkload.runChild(memoryChild, threads: threads ?? Compute.threadCount)
      return
    }
    let selected = try BenchRegistry.select(workloads)
    if list {
      for workload in selected {
        print(workload.name.padding(toLength: 26, withPad: " ", startingAt: 0) + workload.summary)
      }
      return
    }
    let threadCount = threads ?? Compute.threadCount
    let machine = BenchMachine.current
    if !json {
      print("recur bench: \(threadCount) thread(s), \(repetitions) repetition(s), kernels \(Compute.instructionSet)")
      print("machine: \(machine.summary)")
      print("workload".padding(toLength: 26, withPad: " ", startingAt: 0) + "   median      min      max  unit")
    }
    for workload in selected {
      let repetition = try workload.prepare(threads: threadCount)
      let speeds = (0..<repetitions).map { _ in repetition() }.sorted()
      let median = speeds.count % 2 == 1
        ? speeds[speeds.count / 2] : (speeds[speeds.count / 2 - 1] + speeds[speeds.count / 2]) / 2
      if json {
        print(
          #"{"workload":"\#(workload.name)","unit":"\#(workload.unit)","threads":\#(threadCount),"#
            + #""repetitions":\#(repetitions),"median":\#(fixed(median)),"min":\#(fixed(speeds[0])),"#
            + #""max":\#(fixed(speeds[speeds.count - 1])),"machine":\#(machine.json)}"#)
      } else {
        print(
          workload.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + [median, speeds[0], speeds[speeds.count - 1]].map { fixed($0).leftPadded(to: 9) }.joined()
            + "  \(workload.unit)")
      }
    }
  }

  private func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

import Foundation
import Recur

/// The machine a benchmark runs on, as `recur bench` reports it beside every figure: the CPU model, the
/// instruction set the kernels' dispatch chose, the cores and the logical processors.
struct BenchMachine {
  /// The CPU model ("AMD EPYC 9R14", "Apple M2"), or "unknown".
  let cpu: String
  /// The kernels' instruction set, from the dispatch (`Compute.instructionSet`): "avx2+fma", "neon", "scalar".
  let isa: String
  /// Physical cores, when the system says.
  let cores: Int?
  /// Logical processors online.
  let processors: Int
  /// The operating system and architecture.
  let system: String

  static var current: BenchMachine {
    let info = cpuInfo()
    #if arch(x86_64)
      let arch = "x86_64"
    #elseif arch(arm64)
      let arch = "arm64"
    #else
      let arch = "other"
    #endif
    #if os(Linux)
      let os = "Linux"
    #elseif os(macOS)
      let os = "macOS"
    #else
      let os = "other"
    #endif
    return BenchMachine(
      cpu: info.model ?? "unknown", isa: Compute.instructionSet, cores: info.cores,
      processors: ProcessInfo.processInfo.activeProcessorCount, system: "\(os) \(arch)")
  }

  /// The model name and physical core count from /proc/cpuinfo (Linux) or sysctl (macOS).
  private static func cpuInfo() -> (model: String?, cores: Int?) {
    #if os(Linux)
      guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return (nil, nil) }
      func field(_ name: String) -> String? {
        for line in text.split(separator: "\n") {
          let parts = line.split(separator: ":", maxSplits: 1)
          if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
            return parts[1].trimmingCharacters(in: .whitespaces)
          }
        }
        return nil
      }
      // Physical cores: distinct (physical id, core id) pairs; else "cpu cores" of the first processor.
      var pairs = Set<String>(), physical = "0"
      for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { continue }
        if parts[0] == "physical id" { physical = parts[1] }
        if parts[0] == "core id" { pairs.insert(physical + "/" + parts[1]) }
      }
      let model = field("model name") ?? field("Model") ?? field("Hardware")
      return (model, pairs.isEmpty ? field("cpu cores").flatMap { Int($0) } : pairs.count)
    #elseif os(macOS)
      func sysctl(_ name: String) -> String? {
        var size = 0
        guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard sysctlbyname(name, &buffer, &size, nil, 0) == 0 else { return nil }
        return String(cString: buffer)
      }
      var cores: Int32 = 0, size = MemoryLayout<Int32>.size
      let haveCores = sysctlbyname("hw.physicalcpu", &cores, &size, nil, 0) == 0
      return (sysctl("machdep.cpu.brand_string"), haveCores ? Int(cores) : nil)
    #else
      return (nil, nil)
    #endif
  }

  /// One JSON object: {"cpu": …, "isa": …, "cores": …, "processors": …, "system": …}.
  var json: String {
    var object: [String: Any] = ["cpu": cpu, "isa": isa, "processors": processors, "system": system]
    if let cores { object["cores"] = cores }
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
  }

  /// One line: "AMD EPYC, kernels avx2+fma, 2 cores, 2 processors, Linux x86_64".
  var summary: String {
    "\(cpu), kernels \(isa)" + (cores.map { ", \($0) core\($0 == 1 ? "" : "s")" } ?? "")
      + ", \(processors) processor\(processors == 1 ? "" : "s"), \(system)"
  }
}

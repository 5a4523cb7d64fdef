import Foundation
import Testing

@testable import Recur

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `recur train` under faults: killed at random moments, interrupted with Ctrl-C, and unable to save.
@Suite("Reliability/training survives kills, interrupts and failed saves")
struct FaultTests {
  /// A tiny model on a short text, so that a step takes milliseconds even in a debug build.
  static let tiny = [
    "train", "--text", "text.txt", "--hidden", "8", "--embedding", "4", "--layers", "1", "--batch-size", "2", "--seq-len", "8",
    "--dropout", "0.1", "--quiet",
  ]

  static func folder() throws -> ScratchFolder {
    let folder = try ScratchFolder("recur-faults")
    try folder.write("text.txt", Array(String(repeating: "the cat sat on the mat. ", count: 100).utf8))
    return folder
  }

  static func checkpoint(_ folder: ScratchFolder, _ name: String) throws -> Checkpoint<Float> {
    try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent(name))
  }

  /// The steps of the metrics file's lines; every line must be a whole JSON object.
  static func metricsSteps(_ folder: ScratchFolder, _ name: String) throws -> [Int] {
    let text = try String(contentsOfFile: folder.path(name), encoding: .utf8)
    return try text.split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return try #require(object?["step"] as? Int, "metrics line without a step: \(line)")
    }
  }

  @Test("SIGKILL at 20 random moments while checkpointing every step: the checkpoint on disk always loads and resumes")
  func killed() throws {
    let folder = try Self.folder()
    var random = SeededGenerator(seed: 0x5EED)
    var lastStep = 0
    let checkpointPath = folder.path("model.safetensors")
    for kill in 0..<20 {
      let resume = FileManager.default.fileExists(atPath: checkpointPath) ? ["--resume", "model.safetensors"] : []
      let process = try RecurProcess(
        Self.tiny + resume + ["--steps", "1000000", "--validate-every", "1", "--checkpoint", "model.safetensors"],
        in: folder.url)
      usleep(UInt32.random(in: 50_000...300_000, using: &random))
      process.send(SIGKILL)
      let result = process.wait()
      #expect(result.signal == SIGKILL, "kill \(kill): the run ended by itself: \(result.standardError)")
      guard FileManager.default.fileExists(atPath: checkpointPath) else { continue }
      let saved = try Self.checkpoint(folder, "model.safetensors")
      let step = try #require(saved.position?.step, "kill \(kill): the checkpoint has no trainer state")
      #expect(step >= lastStep, "kill \(kill): the checkpoint went back from step \(lastStep) to \(step)")
      #expect(saved.network.namedParameters.allSatisfy { $0.tensor.scalars.allSatisfy(\.isFinite) })
      lastStep = step
    }
    #expect(lastStep > 0, "no checkpoint was written before any kill")

    // The last checkpoint resumes and finishes; the metrics read as one run, a whole line per step.
    let finish = try RecurProcess.run(
      Self.tiny + ["--resume", "model.safetensors", "--steps", "\(lastStep + 2)", "--validate-every", "1",
        "--checkpoint", "model.safetensors"], in: folder.url)
    #expect(finish.status == 0, "\(finish.standardError)")
    #expect(try Self.checkpoint(folder, "model.safetensors").position?.step == lastStep + 2)
    #expect(try Self.metricsSteps(folder, "model.metrics.jsonl") == Array(1...(lastStep + 2)))
  }

  @Test("SIGINT saves and exits cleanly; the resumed run ends bitwise where the uninterrupted run ends")
  func interrupted() throws {
    let folder = try Self.folder()
    let steps = 300
    let common = Self.tiny + ["--steps", "\(steps)", "--validate-every", "10"]
    let straight = try RecurProcess.run(common + ["--checkpoint", "straight.safetensors"], in: folder.url)
    try #require(straight.status == 0, "\(straight.standardError)")

    // Interrupt as soon as the run has taken its first steps. (The process starts with SIGINT blocked, as
    // `Process` passes on the test thread's mask: the command must take it all the same.)
    let process = try RecurProcess(common + ["--checkpoint", "stopped.safetensors"], in: folder.url)
    let metrics = folder.path("stopped.metrics.jsonl")
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: metrics))?[.size] as? Int ?? 0) == 0 {
      usleep(2_000)
    }
    process.send(SIGINT)
    let stopped = process.wait()
    #expect(stopped.status == 0, "\(stopped.standardError)")
    #expect(stopped.standardError.contains("interrupted"))
    let k = try #require(try Self.checkpoint(folder, "stopped.safetensors").position?.step)
    #expect(k >= 1 && k < steps, "the interrupt came too late to test resumption (step \(k))")

    let resumed = try RecurProcess.run(
      Self.tiny + ["--resume", "stopped.safetensors", "--checkpoint", "stopped.safetensors"], in: folder.url)
    #expect(resumed.status == 0, "\(resumed.standardError)")
    let a = try Self.checkpoint(folder, "straight.safetensors"), b = try Self.checkpoint(folder, "stopped.safetensors")
    #expect(b.position?.step == steps)
    #expect(parameterBits(a.network) == parameterBits(b.network))
    #expect(a.optimizerState == b.optimizerState)
    #expect(a.position == b.position.map { var p = $0; p.elapsed = a.position!.elapsed; return p })
  }

  /// Whether `recur` starts at all under a file size limit: the thread sanitizer's runtime cannot (the plain
  /// and address-sanitized builds can), and the full-disk test needs it to.
  static let startsUnderFileSizeLimit: Bool = {
    guard let folder = try? ScratchFolder("recur-fsize-probe"),
      let probe = try? RecurProcess.run(["--help"], in: folder.url, shell: "ulimit -f 8 && exec \"$0\" \"$@\"")
    else { return false }
    return probe.status == 0
  }()

  @Test(
    "a save that fails as on a full disk (a file size limit) is one clear line and leaves the previous checkpoint whole",
    .enabled(
      if: startsUnderFileSizeLimit,
      "recur cannot start under a file size limit in this build (the thread sanitizer's runtime), so the full-disk save is not checked"))
  func fullDisk() throws {
    let folder = try Self.folder()
    let first = try RecurProcess.run(Self.tiny + ["--steps", "4", "--checkpoint", "model.safetensors"], in: folder.url)
    try #require(first.status == 0, "\(first.standardError)")
    let before = try Data(contentsOf: folder.url.appendingPathComponent("model.safetensors"))

    // RLIMIT_FSIZE binds root too: with half the checkpoint's size allowed, writing the new one fails with
    // EFBIG (SIGXFSZ ignored), as a disk that fills up part way through would.
    let limited = "ulimit -f \(before.count / 512 / 2) && trap '' XFSZ && exec \"$0\" \"$@\""
    let full = try RecurProcess.run(
      Self.tiny + ["--resume", "model.safetensors", "--steps", "8", "--validate-every", "2", "--checkpoint", "model.safetensors"],
      in: folder.url, shell: limited)
    #expect(full.status != nil && full.status != 0)
    #expect(full.errorLines.count == 1 && full.standardError.contains("File too large"), "\(full.standardError)")
    #expect(try Data(contentsOf: folder.url.appendingPathComponent("model.safetensors")) == before)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasSuffix(".tmp") }
    #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
  }

  @Test("a save that fails (a folder that is a file, a missing folder) is one clear line and leaves the previous checkpoint whole")
  func failedSaves() throws {
    let folder = try Self.folder()
    let first = try RecurProcess.run(Self.tiny + ["--steps", "4", "--checkpoint", "model.safetensors"], in: folder.url)
    try #require(first.status == 0, "\(first.standardError)")
    let before = try Data(contentsOf: folder.url.appendingPathComponent("model.safetensors"))
    for target in ["text.txt/model.safetensors", "missing/folder/model.safetensors"] {
      let result = try RecurProcess.run(Self.tiny + ["--steps", "2", "--checkpoint", target], in: folder.url)
      #expect(result.status != nil && result.status != 0)
      #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("Error: "), "\(target): \(result.standardError)")
    }
    #expect(try Data(contentsOf: folder.url.appendingPathComponent("model.safetensors")) == before)
  }

  @Test("a metrics line cut short by a kill is dropped when the run resumes, not read as an earlier step")
  func cutMetricsLine() throws {
    let folder = try Self.folder()
    let url = folder.url.appendingPathComponent("run.metrics.jsonl")
    let whole = (1...3).map { "{\"step\":\($0),\"loss\":1.5}" }
    // The checkpoint is of step 3; the killed run went on to step 4 and died writing the line of a step 1x.
    try Data((whole + ["{\"step\":4,\"loss\":1.4}", "{\"step\":1"]).joined(separator: "\n").utf8).write(to: url)
    _ = try MetricsLog(url: url, keepingStepsUpTo: 3)
    #expect(try String(contentsOf: url, encoding: .utf8) == whole.joined(separator: "\n") + "\n")
  }
}

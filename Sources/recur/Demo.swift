import ArgumentParser
import Foundation

/// `recur demo`: a guided run through the chapter, section by section, on built-in data.
///
/// The demo is a list of ``DemoSection`` values (``DemoSection/all``). Each section lives in its own
/// `Demo+<Topic>.swift` file as a static property of `DemoSection`; adding a section is writing that file
/// and adding one line to ``DemoSection/all``.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "A guided run through the chapter: state machines first, then recurrent networks.",
    discussion: """
      Prints each section of the chapter as it runs and writes its figures and tables (Graphviz DOT, CSV) \
      to the output folder. --quick shortens every section so the whole run takes under 30 seconds.
      """
  )

  @Flag(help: "Shorten every section (the whole demo in under 30 seconds).")
  var quick = false

  @Option(name: .shortAndLong, help: "Folder for the files the demo writes.")
  var output = "recur-demo"

  func validate() throws {
    if output.trimmingCharacters(in: .whitespaces).isEmpty {
      throw CLIError("--output needs a folder name")
    }
  }

  func run() throws {
    let context = try DemoContext(quick: quick, outputDirectory: URL(fileURLWithPath: output))
    let clock = ContinuousClock()
    let started = clock.now
    print("Recur demo — the chapter \"Recurrent Neural Networks\", run section by section\(quick ? " (quick)" : "").")
    for (number, section) in DemoSection.all.enumerated() {
      context.header(number: number + 1, title: section.title, chapterSection: section.chapterSection)
      let sectionStart = clock.now
      try section.run(context)
      print("  (\(Self.seconds(clock.now - sectionStart)))")
    }
    print("")
    print("Done in \(Self.seconds(clock.now - started)).")
    print("Files written to \(context.outputDirectory.path):")
    for file in context.writtenFiles {
      print("  \(file.lastPathComponent)")
    }
  }

  private static func seconds(_ duration: Duration) -> String {
    let (whole, attoseconds) = duration.components
    return String(format: "%.2f s", Double(whole) + Double(attoseconds) * 1e-18)
  }
}

/// One section of `recur demo`: a titled step of the chapter that prints what it does and may write files.
struct DemoSection: Sendable {
  /// The heading printed above the section.
  let title: String
  /// The chapter section it illustrates, as titled in the chapter.
  let chapterSection: String
  /// Runs the section, printing to standard output and writing files through the context.
  let run: @Sendable (DemoContext) throws -> Void

  /// The sections of the demo, in the order they run.
  static let all: [DemoSection] = [
    .parityMachine,
    .minimization,
    .ltiImpulseResponse,
    .combinators,
    .rnnLearnsParity,
    .machineFromRNN,
    .rnnIdentifiesLTI,
    .longDependencies,
    .languageModel,
  ]
}

/// What a demo section may use: the quick flag, the output folder, and helpers to print and write.
final class DemoContext {
  /// Whether the demo runs in its short form.
  let quick: Bool
  /// The folder that receives every file the demo writes (created if missing).
  let outputDirectory: URL
  /// The files written so far, in order.
  private(set) var writtenFiles: [URL] = []

  init(quick: Bool, outputDirectory: URL) throws {
    self.quick = quick
    self.outputDirectory = outputDirectory.standardizedFileURL
    do {
      try FileManager.default.createDirectory(at: self.outputDirectory, withIntermediateDirectories: true)
    } catch {
      throw DemoFailure("cannot create output folder \(self.outputDirectory.path): \(error.localizedDescription)")
    }
  }

  /// Prints a section heading.
  func header(number: Int, title: String, chapterSection: String) {
    let rule = String(repeating: "═", count: 78)
    print("")
    print(rule)
    print(" \(number). \(title)")
    print("    chapter: \(chapterSection)")
    print(rule)
  }

  /// Prints prose, each line indented by two spaces like the rest of a section.
  func say(_ text: String) {
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      print(line.isEmpty ? "" : "  " + line)
    }
  }

  /// Writes `contents` to `name` in the output folder and records it.
  /// - Returns: the file's URL.
  @discardableResult
  func write(_ contents: String, to name: String) throws -> URL {
    let url = outputDirectory.appendingPathComponent(name)
    do {
      try contents.write(to: url, atomically: true, encoding: .utf8)
    } catch {
      throw DemoFailure("cannot write \(url.path): \(error.localizedDescription)")
    }
    if !writtenFiles.contains(url) { writtenFiles.append(url) }
    return url
  }

  /// Renders a DOT file to SVG next to it when Graphviz's `dot` is on the PATH.
  /// - Returns: the SVG's URL, or nil when `dot` is not installed or fails.
  func renderSVG(_ dotFile: URL) -> URL? {
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    guard
      let dot = searchPath.split(separator: ":").map({ URL(fileURLWithPath: String($0)).appendingPathComponent("dot") })
        .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
    else { return nil }
    let svg = dotFile.deletingPathExtension().appendingPathExtension("svg")
    let process = Process()
    process.executableURL = dot
    process.arguments = ["-Tsvg", dotFile.path, "-o", svg.path]
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
      process.waitUntilExit()
    } catch {
      return nil
    }
    guard process.terminationStatus == 0 else { return nil }
    if !writtenFiles.contains(svg) { writtenFiles.append(svg) }
    return svg
  }

  /// Prints rows as a table with aligned columns (the first row is the heading), indented by two spaces.
  func printTable(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    for (r, row) in rows.enumerated() {
      let cells = row.enumerated().map { i, cell in
        String(repeating: " ", count: widths[i] - cell.count) + cell
      }
      print("  " + cells.joined(separator: "  "))
      if r == 0 {
        print("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
      }
    }
  }
}

/// A demo step that could not be done or a check that did not hold; printed as one line.
struct DemoFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

import ArgumentParser
import Foundation
import Recur

@main
struct RecurCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur",
    abstract: "State machines and recurrent neural networks: train, sample, evaluate and inspect.",
    groupedSubcommands: [
      CommandGroup(name: "Chapter walk-through", subcommands: [DemoCommand.self, TaskCommand.self, GradientsCommand.self, ExtractCommand.self]),
      CommandGroup(name: "Language model", subcommands: [TrainCommand.self, SampleCommand.self, EvalCommand.self, PrepareCommand.self]),
      CommandGroup(name: "Your own sequences", subcommands: [FitCommand.self, PredictCommand.self]),
      CommandGroup(name: "Deploy and watch", subcommands: [ExportCommand.self]),
      CommandGroup(name: "Benchmark", subcommands: [Bench.self]),
    ]
  )

  /// Runs the command line. A mistake in it (an unknown option, a value that is not a number) is one line on
  /// standard error, "Error: …", and a non-zero exit, as every other error is; `recur <command> --help` shows
  /// the usage that ArgumentParser would otherwise print with it.
  static func main() {
    do {
      try Ranks.start()
      var command = try parseAsRoot()
      try command.run()
      Ranks.finish()
    } catch {
      let code = exitCode(for: error)
      guard code != .success else { exit(withError: error) }
      let text = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
      // Under mpirun only rank 0 prints (the other ranks meet the same error, or mpirun names the one that failed).
      if !text.isEmpty, Ranks.isPrimary { FileHandle.standardError.write(Data("Error: \(text)\n".utf8)) }
      Foundation.exit(code.rawValue)
    }
  }
}

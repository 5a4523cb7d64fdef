import ArgumentParser
import Recur

@main
struct RecurCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur",
    abstract: "State machines and recurrent neural networks: train, sample, evaluate and inspect.",
    subcommands: [DemoCommand.self, TaskCommand.self, GradientsCommand.self, FitCommand.self, PredictCommand.self, ExtractCommand.self, Bench.self, TrainCommand.self, SampleCommand.self, EvalCommand.self]
  )
}

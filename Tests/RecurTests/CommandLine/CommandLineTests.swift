import Foundation
import Testing

import Recur

/// The `recur` executable's shared surface: the help groups the commands by purpose, the training commands
/// share one flag vocabulary (older spellings still accepted), and `recur bench --json` names the machine.
@Suite("Command line/one vocabulary")
struct CommandLineTests {
  @Test("recur help groups the commands by purpose")
  func helpGroups() throws {
    let folder = try ScratchFolder("recur-help")
    let help = try RecurProcess.run(["help"], in: folder.url)
    #expect(help.status == 0)
    for heading in ["CHAPTER WALK-THROUGH SUBCOMMANDS:", "LANGUAGE MODEL SUBCOMMANDS:", "YOUR OWN SEQUENCES SUBCOMMANDS:", "BENCHMARK SUBCOMMANDS:"] {
      #expect(help.standardOutput.contains(heading), "\(heading)")
    }
    for command in ["demo", "task", "gradients", "extract", "train", "sample", "eval", "fit", "predict", "bench"] {
      #expect(help.standardOutput.contains("\n  \(command) "), "\(command)")
    }
  }

  @Test("train, fit and task show the same model, optimization and run flags; the old spellings stay hidden", arguments: ["train", "fit", "task"])
  func sharedFlags(command: String) throws {
    let folder = try ScratchFolder("recur-help")
    let help = try RecurProcess.run(["help", command], in: folder.url).standardOutput
    for flag in ["--cell", "--hidden", "--layers", "--dropout", "--forget-bias", "--optimizer", "--learning-rate", "--clip",
      "--schedule", "--warmup", "--steps", "--time", "--batch-size", "--seed", "--threads"]
    {
      #expect(help.contains("  \(flag) "), "\(command) \(flag)")
    }
    #expect(!help.contains("--model") && !help.contains("--lr "))
    let words = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(words.contains("(values: adam, adamw, sgd, rmsprop, adagrad)"))
  }

  @Test("--model and --lr are still accepted; fit and task take --optimizer, --layers and --dropout")
  func aliasesAndNewFlags() throws {
    let folder = try ScratchFolder("recur-flags")
    try folder.write("pairs.jsonl", Array(String(repeating: "{\"x\": [[1, 2], [3, 4]], \"y\": [0, 1]}\n", count: 12).utf8))
    let fit = try RecurProcess.run(
      ["fit", "--data", "pairs.jsonl", "--model", "gru", "--lr", "0.05", "--optimizer", "sgd", "--layers", "2",
       "--dropout", "0.1", "--hidden", "4", "--steps", "3", "--checkpoint", "fit.safetensors"], in: folder.url)
    #expect(fit.status == 0, "\(fit.standardError)")
    let model = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("fit.safetensors")).network
    #expect(model.configuration.cell == .gru && model.configuration.layers == 2 && model.configuration.dropout == 0.1)
    let task = try RecurProcess.run(
      ["task", "parity", "--cell", "rnn", "--hidden", "4", "--layers", "2", "--optimizer", "adamw", "--steps", "3",
       "--checkpoint", "task.safetensors"], in: folder.url)
    #expect(task.status == 0, "\(task.standardError)")
    let trained = try Checkpoint<Float>(contentsOf: folder.url.appendingPathComponent("task.safetensors")).network
    #expect(trained.configuration.cell == .rnn(.tanh) && trained.configuration.layers == 2)
  }

  @Test("recur bench --json names the machine: CPU model, the kernels' instruction set, cores and processors")
  func benchMachine() throws {
    let folder = try ScratchFolder("recur-bench")
    let bench = try RecurProcess.run(
      ["bench", "--json", "--repetitions", "1", "--threads", "1", "gemm-1x512x2048-nn"], in: folder.url)
    #expect(bench.status == 0, "\(bench.standardError)")
    let line = try #require(bench.standardOutput.split(separator: "\n").first)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(object["workload"] as? String == "gemm-1x512x2048-nn")
    let machine = try #require(object["machine"] as? [String: Any])
    #expect(machine["isa"] as? String == Compute.instructionSet)
    #expect((machine["cpu"] as? String).map { !$0.isEmpty } == true)
    #expect((machine["processors"] as? Int).map { $0 >= 1 } == true)
  }
}

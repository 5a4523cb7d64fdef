import Foundation
import Testing

@testable import Recur

/// The averaging fixture's float32 parameters.
typealias TwoFloatTensors = TwoParameters<Float>

extension TwoParameters<Float> {
  /// The tensors `prefix.a` and `prefix.b` of the fixture.
  init(_ file: SafeTensorsFile, _ prefix: String) throws {
    self.init(
      a: try file.tensor(named: prefix + ".a", as: Float.self), b: try file.tensor(named: prefix + ".b", as: Float.self))
  }
}

@Suite("Weight averaging")
struct WeightAveragingTests {
  static let cases: [(String, WeightAveraging)] = [
    ("ema_0.9", .exponential(decay: 0.9, start: 2)), ("ema_0.25", .exponential(decay: 0.25, start: 2)),
    ("uniform", .uniform(start: 2)),
  ]

  @Test("θ̄ equals torch.optim.swa_utils.AveragedModel's after each Adam step (float32)", arguments: cases.map(\.0))
  func matchesTorch(name: String) throws {
    let averaging = try #require(Self.cases.first { $0.0 == name }?.1)
    let url = try #require(Bundle.module.url(forResource: "averaging_reference", withExtension: "safetensors", subdirectory: "Fixtures"))
    let file = try SafeTensorsFile(contentsOf: url)
    let steps = try #require(Int(file.metadata["steps"] ?? ""))
    var weights = try TwoFloatTensors(file, "initial")
    var state = OptimizerState<Float>()
    // θ̄ from PyTorch's θ_t (the averaging alone) and from Recur's own Adam iterates.
    var fromTorch = weights, fromRecur = weights
    var n = 0
    for t in 1...steps {
      Optimizer.adam(learningRate: 0.05).update(&weights, gradient: try TwoFloatTensors(file, "gradient.\(t)"), state: &state)
      let torchWeights = try TwoFloatTensors(file, "weights.\(t)")
      expectClose(weights.values, torchWeights.values, relativeTolerance: 1e-6, "Adam step \(t)")
      guard t > averaging.start else {
        #expect(file.entry(named: "\(name).\(t).a") == nil)
        continue
      }
      averaging.update(&fromTorch, toward: torchWeights, count: n)
      averaging.update(&fromRecur, toward: weights, count: n)
      n += 1
      let expected = try TwoFloatTensors(file, "\(name).\(t)").values
      expectClose(fromTorch.values, expected, relativeTolerance: 1e-6, "\(name) after step \(t)")
      #expect(fromTorch.values == expected, "\(name) after step \(t): PyTorch's arithmetic, bit for bit")
      expectClose(fromRecur.values, expected, relativeTolerance: 1e-6, "\(name) (Recur's Adam) after step \(t)")
    }
    #expect(n == steps - averaging.start)
  }

  @Test("the update is torch.lerp bit for bit (float32, 100 elements, weights on both sides of ½)")
  func lerpMatchesTorch() throws {
    let url = try #require(Bundle.module.url(forResource: "averaging_reference", withExtension: "safetensors", subdirectory: "Fixtures"))
    let file = try SafeTensorsFile(contentsOf: url)
    let start = try file.tensor(named: "lerp.start", as: Float.self), end = try file.tensor(named: "lerp.end", as: Float.self)
    for (k, weight) in [0.001, 0.1, 1.0 / 3, 0.5, 0.75].enumerated() {
      var average = start
      average.withMutablePointer { a in
        end.withPointer { v in Float.lerp(count: start.count, average: a, value: v, weight: Float(weight)) }
      }
      let expected = try file.tensor(named: "lerp.\(k)", as: Float.self).scalars
      #expect(average.scalars.map(\.bitPattern) == expected.map(\.bitPattern), "w = \(weight)")
      expectClose(average.scalars, expected, relativeTolerance: 1e-6, "w = \(weight)")
    }
  }

  static func data() throws -> TextBatches<Float> {
    try TextBatches<Float>.stream(tokens: TrainerTests.stream(count: 61, vocabulary: 7, seed: 2), batchSize: 2, steps: 5)
  }

  static func options(steps: Int, averaging: WeightAveraging?) -> TrainerOptions {
    var options = TrainerTests.options(steps: steps)
    options.averaging = averaging
    return options
  }

  @Test("the Trainer averages θ_t for t > start, hand-computed in Double; validation sees θ̄ once it starts",
    arguments: [WeightAveraging.exponential(decay: 0.75, start: 3), .uniform(start: 3), .uniform(start: 0)])
  func trainerAverages(averaging: WeightAveraging) throws {
    let net = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3)
    var options = Self.options(steps: 7, averaging: averaging)
    options.validationInterval = 1
    let trainer = try Trainer(network: net, data: try Self.data(), options: options)
    var iterates: [[Double]] = [], raw: [[[UInt64]]] = [], validated: [[[UInt64]]] = [], averaged: [[[UInt64]]?] = []
    trainer.validation = { network in
      validated.append(parameterBits(network))
      return 1
    }
    // unowned: the closure is stored in the trainer it reads (a strong capture would be a retain cycle).
    trainer.onProgress = { [unowned trainer] _ in
      iterates.append(trainer.network.flattened().map(Double.init))
      raw.append(parameterBits(trainer.network))
      averaged.append(trainer.averagedNetwork.map(parameterBits))
    }
    try trainer.run()
    #expect(iterates.count == 7)
    var expected: [Double] = []
    for (k, theta) in iterates.enumerated() {
      let t = k + 1
      if t <= averaging.start {
        #expect(averaged[k] == nil, "no average after step \(t)")
        #expect(validated[k] == raw[k], "validation after step \(t) uses θ")
        continue
      }
      let n = t - averaging.start - 1  // iterates already in θ̄
      switch averaging {
      case _ where n == 0: expected = theta
      case .exponential(let decay, _): expected = zip(expected, theta).map { decay * $0 + (1 - decay) * $1 }
      case .uniform: expected = zip(expected, theta).map { $0 + ($1 - $0) / Double(n + 1) }
      }
      let got = try #require(averaged[k], "an average after step \(t)")
      #expect(validated[k] == got, "validation after step \(t) uses θ̄")
      let values = got.flatMap { $0.map { Double(Float(bitPattern: UInt32($0))) } }
      expectClose(values, expected, relativeTolerance: 1e-5, "θ̄ after step \(t)")
    }
    if case .uniform = averaging {
      // The uniform θ̄ is the plain mean of θ_{start+1} … θ_N.
      let tail = iterates[averaging.start...]
      let mean = (0..<tail.first!.count).map { i in tail.reduce(0) { $0 + $1[i] } / Double(tail.count) }
      expectClose(expected, mean, relativeTolerance: 1e-12, "the running mean is the mean")
    }
    #expect(trainer.average?.count == 7 - averaging.start)
  }

  @Test("stop at k and resume: weights, optimizer state and θ̄ bitwise equal to the run that never stopped",
    arguments: [(WeightAveraging.exponential(decay: 0.9, start: 3), 8), (.uniform(start: 3), 2), (.uniform(start: 0), 8)])
  func resumesBitwise(averaging: WeightAveraging, stopAt k: Int) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let net = try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3)
    let options = Self.options(steps: 14, averaging: averaging)
    let straight = try Trainer(network: net, data: try Self.data(), options: options)
    try straight.run()

    let url = folder.appendingPathComponent("run.safetensors")
    let first = try Trainer(network: net, data: try Self.data(), options: options)
    first.checkpointURL = url
    let stop = first.stopFlag
    first.onProgress = { progress in if progress.report.step == k { stop.requestStop() } }
    #expect(try first.run().step == k)
    try first.step()  // past the checkpoint, unsaved

    let checkpoint = try Checkpoint<Float>(contentsOf: url)
    #expect(checkpoint.average?.count == max(k - averaging.start, 0))
    #expect(checkpoint.average?.averaging == averaging)
    let resumed = try Trainer(resuming: checkpoint, data: try Self.data())
    try resumed.run()
    #expect(parameterBits(resumed.network) == parameterBits(straight.network))
    let straightAverage = try #require(straight.average), resumedAverage = try #require(resumed.average)
    #expect(resumedAverage.count == 14 - averaging.start)
    #expect(resumedAverage.count == straightAverage.count)
    #expect(parameterBits(resumedAverage.network) == parameterBits(straightAverage.network))
    let bits = { (s: OptimizerState<Float>) in s.namedTensors.map { $0.name + "\($0.tensor.scalars.map(\.bitPattern))" } }
    #expect(bits(resumed.optimizerState) == bits(straight.optimizerState))
    #expect(resumed.optimizerState.step == straight.optimizerState.step)
  }

  @Test("options and checkpoints written before averaging existed still load, with no average")
  func oldCheckpoints() throws {
    let options = TrainerTests.options(steps: 5)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    var json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(options)) as? [String: Any])
    #expect(json["averaging"] == nil)
    json.removeValue(forKey: "averaging")
    let decoded = try JSONDecoder().decode(TrainerOptions.self, from: try JSONSerialization.data(withJSONObject: json))
    #expect(decoded == options)
    #expect(decoded.averaging == nil)

    // A checkpoint of a run without averaging: no recur.average entries, and it resumes without one.
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("old.safetensors")
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3), data: try Self.data(), options: options)
    trainer.checkpointURL = url
    try trainer.run()
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(!file.names.contains { $0.hasPrefix("recur.average.") })
    #expect(!file.metadata.keys.contains { $0.hasPrefix("recur.average.") })
    let checkpoint = try Checkpoint<Float>(file)
    #expect(checkpoint.average == nil)
    #expect(parameterBits(checkpoint.evaluationNetwork) == parameterBits(trainer.network))
    #expect(try Trainer(resuming: checkpoint, data: try Self.data()).average == nil)
  }

  @Test("a missing, mis-shaped or unnamed average tensor, or bad settings, are refused with one line")
  func badAverages() throws {
    let options = Self.options(steps: 4, averaging: .exponential(decay: 0.5, start: 1))
    let trainer = try Trainer(
      network: try RecurrentNetwork<Float>(TrainerTests.languageModel, seed: 3), data: try Self.data(), options: options)
    try trainer.run()
    let good = try trainer.checkpoint().safeTensorsFile()
    let checkpoint = try Checkpoint<Float>(good)
    #expect(checkpoint.average?.count == 3)
    #expect(parameterBits(checkpoint.evaluationNetwork) == parameterBits(try #require(trainer.averagedNetwork)))
    #expect(good.metadata["recur.average.summary"] == "exponential moving average, decay 0.5, from step 1, 3 steps averaged")

    func refused(_ change: (inout SafeTensorsFile) throws -> Void) throws -> String {
      var file = SafeTensorsFile(metadata: good.metadata)
      for name in good.names { try file.add(try good.tensor(named: name, as: Float.self), named: name) }
      try change(&file)
      do {
        _ = try Checkpoint<Float>(file)
        Issue.record("accepted")
        return ""
      } catch let error as CheckpointError {
        #expect(!error.message.contains("\n"))
        return error.message
      }
    }
    let name = "recur.average.head.bias"
    #expect(try refused { file in file = try Self.without(name, file) }.contains("'\(name)' is missing"))
    #expect(try refused { file in
      file = try Self.without(name, file)
      try file.add(Tensor<Float>(shape: [2], repeating: 0), named: name)
    }.contains("has shape [2]"))
    #expect(try refused { try $0.add(Tensor<Float>(shape: [1], repeating: 0), named: "recur.average.extra") }.contains("names no parameter"))
    #expect(try refused { $0.metadata["recur.average.decay"] = "1.5" }.contains("strictly between 0 and 1"))
    #expect(try refused { $0.metadata["recur.average.kind"] = "median" }.contains("not exponential or uniform"))
    #expect(try refused { $0.metadata["recur.average.kind"] = nil }.contains("without 'recur.average.kind'"))

    #expect(throws: WeightAveragingError.self) { try WeightAveraging.exponential(decay: 1, start: 0).validate() }
    #expect(throws: WeightAveragingError.self) { try WeightAveraging.uniform(start: -1).validate() }
  }

  static func without(_ name: String, _ file: SafeTensorsFile) throws -> SafeTensorsFile {
    var copy = SafeTensorsFile(metadata: file.metadata)
    for other in file.names where other != name { try copy.add(try file.tensor(named: other, as: Float.self), named: other) }
    return copy
  }
}

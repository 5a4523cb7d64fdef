import Foundation
import Testing

@testable import Recur

@Suite("Built-in tasks")
struct TaskTests {
  @Test("parity targets are the chapter's machine; batches are reproducible from the seed")
  func parity() throws {
    let task = try ParityTask(maxLength: 6)
    var g = SeededGenerator(seed: 1)
    let strings = task.strings(count: 20, lengths: 1...6, generator: &g)
    let batch: SequenceBatch<Float> = try task.batch(for: strings)
    guard case .values(let y, 1) = batch.targets, case .vectors(let x, 2) = batch.inputs else {
      Issue.record("unexpected batch layout")
      return
    }
    for (b, s) in strings.enumerated() {
      var zeros = 0
      for (t, d) in s.enumerated() {
        if d == "0" { zeros += 1 }
        #expect(y[t * 20 + b] == (zeros % 2 == 0 ? 1 : 0))
        #expect(x[(t * 20 + b) * 2] == (d == "0" ? 1 : 0))
      }
    }
    var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
    let a: TrainingBatch<Float> = try task.makeBatch(size: 8, generator: &g1)
    let c: TrainingBatch<Float> = try task.makeBatch(size: 8, generator: &g2)
    #expect(a.batch == c.batch)
  }

  @Test("adding problem: two markers, one per half; the target is their sum; the mean predictor scores 1/6")
  func adding() throws {
    let task = try AddingTask(length: 20)
    var g = SeededGenerator(seed: 2)
    let tb: TrainingBatch<Double> = try task.makeBatch(size: 2000, generator: &g)
    guard case .vectors(let x, 2) = tb.batch.inputs, case .values(let y, 1) = tb.finalTargets! else {
      Issue.record("unexpected batch layout")
      return
    }
    let B = 2000
    var squaredError = 0.0
    for b in 0..<B {
      let marked = (0..<20).filter { x[($0 * B + b) * 2 + 1] == 1 }
      #expect(marked.count == 2)
      #expect(marked[0] < 10 && marked[1] >= 10)
      let sum = marked.map { x[($0 * B + b) * 2] }.reduce(0, +)
      #expect(abs(sum - y[b]) < 1e-12)
      squaredError += (y[b] - 1) * (y[b] - 1)
    }
    expectClose(squaredError / Double(B), AddingTask.meanBaseline, relativeTolerance: 0.08)
    // A network that always outputs 1 scores the baseline.
    var net = try RecurrentNetwork<Double>(task.networkConfiguration(cell: .lstm, hiddenSize: 4), seed: 1)
    net.headWeight.zero()
    net.headBias.scalars = [1]
    var eg = SeededGenerator(seed: 3)
    let evaluation = try task.evaluate(net, generator: &eg)
    expectClose(evaluation.primary.value, 1.0 / 6, relativeTolerance: 0.1)
    #expect(!evaluation.solved)
  }

  @Test("copy memory: symbols, delay, delimiter, and targets that repeat the symbols at the end")
  func copyMemory() throws {
    let task = try CopyMemoryTask(delay: 5, copyLength: 3, symbolCount: 4)
    var g = SeededGenerator(seed: 4)
    let tb: TrainingBatch<Float> = try task.makeBatch(size: 3, generator: &g)
    #expect(tb.batch.steps == 11)
    guard case .vectors(let x, 6) = tb.batch.inputs, case .classes(let y) = tb.batch.targets else {
      Issue.record("unexpected batch layout")
      return
    }
    for b in 0..<3 {
      let inputs = (0..<11).map { t in (0..<6).first { x[(t * 3 + b) * 6 + $0] == 1 }! }
      let targets = (0..<11).map { Int(y[$0 * 3 + b]) }
      #expect(inputs[0..<3].allSatisfy { (1...4).contains($0) })
      #expect(Array(inputs[3...]) == [0, 0, 0, 0, 5, 0, 0, 0])
      #expect(Array(targets[0..<8]) == Array(repeating: 0, count: 8))
      #expect(Array(targets[8...]) == Array(inputs[0..<3]))
    }
    expectClose(task.entropyBaseline, 3 * Foundation.log(4.0) / 11, relativeTolerance: 1e-12)
  }

  @Test("embedded Reber: generated strings are in the grammar; legal sets; malformed strings are rejected")
  func reber() throws {
    var g = SeededGenerator(seed: 6)
    for _ in 0..<200 {
      let s = EmbeddedReberTask.generate(using: &g)
      let sets = try EmbeddedReberTask.legalNextSymbols(s)
      #expect(sets.count == s.count - 1)
      let chars = Array(s)
      for t in 0..<(chars.count - 1) { #expect(sets[t].contains(chars[t + 1]), "\(s) at \(t)") }
      #expect(sets[sets.count - 2] == [chars[1]])
    }
    #expect(try EmbeddedReberTask.legalNextSymbols("BTBTXSETE").map { String($0.sorted()) } == [
      "PT", "B", "PT", "SX", "SX", "E", "T", "E",
    ])
    #expect(throws: TaskError.self) { try EmbeddedReberTask.legalNextSymbols("BTBTXSEPE") }
    #expect(throws: TaskError.self) { try EmbeddedReberTask.legalNextSymbols("BTBTTSETE") }
  }

  @Test("LTI identification: targets are the system's response; the system itself as a network scores zero error")
  func lti() throws {
    let task = try LTIIdentificationTask(length: 15)
    // An identity-activation RNN with W^ss = A, W^sx = B, W^o = C is the system.
    var net = try RecurrentNetwork<Double>(
      .init(cell: .rnn(.identity), inputSize: 1, hiddenSize: 2, outputSize: 1), seed: 0)
    net.stack.layers[0].weightHH.scalars = task.system.stateMatrix.scalars
    net.stack.layers[0].weightIH.scalars = task.system.inputMatrix.scalars
    net.stack.layers[0].biasIH.zero()
    net.stack.layers[0].biasHH.zero()
    net.headWeight.scalars = task.system.outputMatrix.scalars
    net.headBias.zero()
    var g = SeededGenerator(seed: 8)
    let evaluation = try task.evaluate(net, generator: &g)
    #expect(evaluation.primary.value < 1e-20)
    #expect(evaluation.solved)
    #expect(evaluation.baseline! > 0.1)
    net.headWeight.zero()
    let zero = try task.evaluate(net, generator: &g)
    expectClose(zero.primary.value, zero.baseline!, relativeTolerance: 0.2)
  }

  @Test("tasks by name; unknown names and bad lengths are errors naming the problem")
  func names() throws {
    for name in BuiltInTasks.names { #expect(try BuiltInTasks.make(name).name == name) }
    #expect(throws: TaskError("unknown task 'sort'; the tasks are parity, lti, adding, copy, reber")) {
      try BuiltInTasks.make("sort")
    }
    #expect(throws: TaskError("the adding problem needs T ≥ 2, got 1")) { try BuiltInTasks.make("adding", length: 1) }
  }
}

import Foundation
import Testing

@testable import Recur

@Suite("Sequence files with one target per sequence")
struct SequenceTargetFileTests {
  @Test("JSON Lines: a bare-number label, a vector, ±1, and lengths that say per sequence")
  func jsonLines() throws {
    let classes = try SequenceDataset.parse(
      "{\"x\": [[1, 2], [3, 4], [5, 6]], \"y\": 2}\n{\"x\": [[0, 1]], \"y\": 0}\n", format: .jsonLines)
    #expect(classes.layout == .sequence && classes.kind == .classes && classes.outputSize == 3)
    #expect(classes.targets == [[[2]], [[0]]])
    #expect(classes.sequenceTargets([1, 0]) == .classes([0, 2]))
    let batch = try classes.batch([0, 1])
    #expect(batch.lengths == [3, 1] && batch.targets == .classes(Array(repeating: -1, count: 6)))

    let values = try SequenceDataset.parse(
      "{\"x\": [1, 2, 3], \"y\": [0.2, 1.5]}\n{\"x\": [4], \"y\": [1, 2]}", format: .jsonLines)
    #expect(values.layout == .sequence && values.kind == .values && values.outputSize == 2)
    #expect(values.sequenceTargets([0, 1]) == .values([0.2, 1.5, 1, 2], width: 2))

    let binary = try SequenceDataset.parse("{\"x\": [1, 0], \"y\": -1}\n{\"x\": [1], \"y\": 1}", format: .jsonLines)
    #expect(binary.layout == .sequence && binary.kind == .binary && binary.targets == [[[0]], [[1]]])

    // As many numbers as steps: labels per step, unless the layout is given.
    let perStep = try SequenceDataset.parse("{\"x\": [1, 0], \"y\": [0, 1]}", format: .jsonLines)
    #expect(perStep.layout == .step && perStep.kind == .classes)
    let given = try SequenceDataset.parse("{\"x\": [1, 0], \"y\": [0, 1]}", format: .jsonLines, layout: .sequence)
    #expect(given.layout == .sequence && given.kind == .values && given.targets == [[[0, 1]]])
  }

  @Test("CSV: the target on the first row only, or repeated with the layout given")
  func csv() throws {
    let text = "sequence,step,x1,x2,label\na,1,0.1,0.2,2\na,2,0.3,0.4,\na,3,0.5,0.6,\nb,1,1,1,0\nb,2,0,0,\n"
    let d = try SequenceDataset.parse(text, format: .csv)
    #expect(d.layout == .sequence && d.kind == .classes && d.targets == [[[2]], [[0]]])
    #expect(d.inputs[0] == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    let values = try SequenceDataset.parse("sequence,step,x1,y1,y2\na,1,0,1,2\na,2,1,,\n", format: .csv)
    #expect(values.layout == .sequence && values.targets == [[[1, 2]]])
    let repeated = try SequenceDataset.parse(
      "sequence,step,x1,label\na,1,0,1\na,2,1,1\nb,1,0,0\n", format: .csv, layout: .sequence)
    #expect(repeated.targets == [[[1]], [[0]]])
  }

  @Test(
    "malformed per-sequence files name the line",
    arguments: [
      ("{\"x\": [1, 2], \"y\": 1}\n{\"x\": [1], \"y\": [[1]]}", "line 2: y holds one vector per step, but other lines have one target per sequence"),
      ("{\"x\": [1, 2], \"y\": 1}\n{\"x\": [1, 2], \"y\": [1, 2, 3]}", "line 2: y holds vectors, but the first sequence holds class labels"),
      ("{\"x\": [1, 2], \"y\": 1.5}", "line 1: y is 1.5; class labels are integers 0, 1, 2, …"),
      ("{\"x\": [1, 2], \"y\": [1, 2]}\n{\"x\": [1], \"y\": [1]}\n{\"x\": [1, 2], \"y\": [1]}", "line 2: y has 1 values, but the first sequence has 2"),
    ])
  func malformed(text: String, message: String) {
    #expect(throws: SequenceFileError.self) { try SequenceDataset.parse(text, format: .jsonLines) }
    do {
      _ = try SequenceDataset.parse(text, format: .jsonLines)
    } catch {
      #expect(error.description == message)
    }
  }

  @Test("per-step layout given for a per-sequence file; CSV targets that change or come back")
  func refused() throws {
    #expect(throws: SequenceFileError.self) {
      try SequenceDataset.parse("{\"x\": [1, 2], \"y\": 1}", format: .jsonLines, layout: .step)
    }
    do {
      _ = try SequenceDataset.parse("sequence,step,x1,label\na,1,0,1\na,2,1,\na,3,1,1\n", format: .csv)
      Issue.record("a target that comes back after empty rows was accepted")
    } catch {
      #expect(error.description.hasPrefix("line 4: the target is given here but was empty on earlier rows"))
    }
    do {
      _ = try SequenceDataset.parse("sequence,step,x1,label\na,1,0,1\na,2,1,0\n", format: .csv, layout: .sequence)
      Issue.record("a target that changes within a sequence was accepted")
    } catch {
      #expect(error.description == "line 2: the target changes within the sequence, but there is one target per sequence")
    }
  }

  @Test("the trainer learns a per-sequence label with every readout; fit, eval and predict agree", arguments: SequenceReadout.allCases)
  func fitEvalPredict(readout: SequenceReadout) throws {
    // The label is the sign of the sum of the first feature over the sequence (lengths 2 … 6).
    let folder = try ScratchFolder("recur-seq-target")
    var rng = SeededGenerator(seed: 11)
    var lines: [String] = []
    for _ in 0..<60 {
      let n = 2 + Int(rng.next() % 5)
      let x = (0..<n).map { _ in [rng.nextNormal(), rng.nextNormal()] }
      lines.append("{\"x\": \(x), \"y\": \(x.map { $0[0] }.reduce(0, +) > 0 ? 1 : 0)}")
    }
    try folder.write("seq.jsonl", Array(lines.joined(separator: "\n").utf8))
    let fit = try RecurProcess.run(
      ["fit", "--data", "seq.jsonl", "--cell", "gru", "--hidden", "8", "--epochs", "40", "--readout", readout.rawValue,
       "--class-weights", "balanced", "--checkpoint", "m.safetensors", "--validation", "0.2"], in: folder.url)
    try #require(fit.status == 0, "\(fit.standardError)")
    #expect(fit.standardOutput.contains("per sequence (readout: \(readout.rawValue))"))
    #expect(fit.standardOutput.contains("class weights: "))
    #expect(fit.standardOutput.contains("metrics on the validation sequences (12):"))
    let eval = try RecurProcess.run(["eval", "--checkpoint", "m.safetensors", "--data", "seq.jsonl", "--json"], in: folder.url)
    try #require(eval.status == 0, "\(eval.standardError)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as? [String: Any])
    let accuracy = try #require(object["accuracy"] as? Double)
    #expect(accuracy > 0.8, "accuracy \(accuracy) with readout \(readout)")
    #expect((object["support"] as? [Int])?.reduce(0, +) == 60)

    let predict = try RecurProcess.run(["predict", "--checkpoint", "m.safetensors", "--data", "seq.jsonl"], in: folder.url)
    try #require(predict.status == 0, "\(predict.standardError)")
    let outputs = predict.standardOutput.split(separator: "\n")
    #expect(outputs.count == 60)
    // The predictions give the same accuracy as eval.
    let data = try SequenceDataset.parse(lines.joined(separator: "\n"), format: .jsonLines)
    var right = 0
    for (line, target) in zip(outputs, data.targets) {
      let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let y = try #require(o["y"] as? Int)
      if y == Int(target[0][0]) { right += 1 }
    }
    #expect(abs(Double(right) / 60 - accuracy) < 1e-12)
  }
}

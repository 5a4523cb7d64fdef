import Foundation
import Testing

@testable import Recur

@Suite("Sequence files for recur fit and recur predict")
struct SequenceFileTests {
  @Test("JSON Lines: vectors, single-number steps, class labels and ±1 labels are read and typed")
  func jsonLines() throws {
    let values = try SequenceDataset.parse(
      "{\"x\": [[1, 2], [3, 4]], \"y\": [[0.5], [1.5]]}\n\n{\"x\": [[5, 6]], \"y\": [[2]]}\n", format: .jsonLines)
    #expect(values.kind == .values && values.featureCount == 2 && values.outputSize == 1)
    #expect(values.inputs == [[[1, 2], [3, 4]], [[5, 6]]])
    #expect(values.lines == [1, 3])
    let classes = try SequenceDataset.parse("{\"x\": [1, 0, 1], \"y\": [2, 0, 1]}", format: .jsonLines)
    #expect(classes.kind == .classes && classes.outputSize == 3 && classes.loss == .crossEntropy)
    let batch = try classes.batch([0])
    #expect(batch.targets == .classes([2, 0, 1]))
    let binary = try SequenceDataset.parse("{\"x\": [1, 0], \"y\": [1, -1]}", format: .jsonLines)
    #expect(binary.kind == .binary && binary.targets == [[[1], [0]]] && binary.outputActivation == .sigmoid)
    let forced = try SequenceDataset.parse("{\"x\": [1, 0], \"y\": [1, 0]}", format: .jsonLines, kind: .binary)
    #expect(forced.kind == .binary)
    let unlabelled = try SequenceDataset.parse("{\"x\": [1, 0]}", format: .jsonLines, requireTargets: false)
    #expect(!unlabelled.hasTargets)
  }

  @Test(
    "malformed lines: the error names the line and the problem",
    arguments: [
      ("{\"x\": [[1], [2]], \"y\": [[1]]}", "line 1: x has 2 steps but y has 1"),
      ("{\"x\": [[1, 2]], \"y\": [[1]]}\n{\"x\": [[1]], \"y\": [[1]]}", "line 2: x step 0 has 1 features, but the first sequence has 2"),
      ("{\"x\": [[1], [\"a\"]], \"y\": [[1], [2]]}", "line 1: x[1][0] is not a number (a step is a number or a list of numbers)"),
      ("{\"x\": [[1]], \"y\": [[1]]}\n{\"y\": [[1]]}", "line 2: missing \"x\""),
      ("{\"x\": [[1]], \"y\": [[1]]}\nnot json", "line 2: not a JSON object of the form {\"x\": [...], \"y\": [...]}"),
      ("{\"x\": [[1]], \"y\": [[1, 2]]}\n{\"x\": [[1]], \"y\": [[1]]}", "line 2: y step 0 has 1 values, but the first sequence has 2"),
      ("{\"x\": [1, 2], \"y\": [0, 1.5]}", "line 1: y step 1 is 1.5; class labels are integers 0, 1, 2, …"),
      ("{\"x\": [1], \"y\": [[1]]}\n{\"x\": [1], \"y\": [1]}", "line 2: y holds class labels, but the first sequence holds vectors"),
      ("{\"x\": [1]}", "line 1: the sequence has no targets (\"y\")"),
      ("{\"x\": [], \"y\": []}", "line 1: x has no steps"),
      ("\n\n", "the file holds no sequences"),
    ])
  func jsonErrors(text: String, message: String) {
    #expect(throws: SequenceFileError.self) { try SequenceDataset.parse(text, format: .jsonLines) }
    do {
      _ = try SequenceDataset.parse(text, format: .jsonLines)
    } catch {
      #expect(error.description == message)
    }
  }

  @Test("CSV: sequences from rows, real targets or labels; errors name the line")
  func csv() throws {
    let text = "sequence,step,x1,x2,y1\na,0,1,2,0.5\na,1,3,4,1.5\nb,0,5,6,2\n"
    let data = try SequenceDataset.parse(text, format: .csv)
    #expect(data.inputs == [[[1, 2], [3, 4]], [[5, 6]]])
    #expect(data.targets == [[[0.5], [1.5]], [[2]]])
    #expect(data.lines == [2, 4])
    let labels = try SequenceDataset.parse("sequence,step,x1,label\n7,1,0,1\n7,2,1,-1\n", format: .csv)
    #expect(labels.kind == .binary)
    let cases: [(String, String)] = [
      ("sequence,step,x1,y1\na,0,1\n", "line 2: 3 fields, but the header has 4"),
      ("sequence,step,x1,y1\na,0,1,z\n", "line 2: y1 'z' is not a number"),
      ("sequence,step,x1,y1\na,0,1,2\na,0,1,2\n", "line 3: step 0 does not follow step 0 of sequence 'a'"),
      ("sequence,step,x1,y1\na,0,1,2\nb,0,1,2\na,1,1,2\n", "line 4: sequence 'a' continues after other rows; keep its rows together"),
      ("id,step,x1\n", "line 1: the header must start with sequence,step then x… columns"),
      ("sequence,step,x1,z\n", "line 1: column 'z' is not sequence, step, x…, y… or label"),
    ]
    for (bad, message) in cases {
      do {
        _ = try SequenceDataset.parse(bad, format: .csv)
        Issue.record("expected an error for \(bad)")
      } catch {
        #expect(error.description == message)
      }
    }
  }

  @Test("training batches: every pair once per pass, reproducible order, restorable position")
  func batches() throws {
    let text = (0..<7).map { "{\"x\": [\($0)], \"y\": [[\($0)]]}" }.joined(separator: "\n")
    let data = try SequenceDataset.parse(text, format: .jsonLines)
    var a = try SequencePairs<Float>(data, batchSize: 3, seed: 4)
    #expect(a.batchesPerEpoch == 3)
    var seen: [Float] = []
    for _ in 0..<3 {
      guard case .vectors(let x, _) = try a.nextBatch().batch.inputs else { return }
      seen += x
    }
    #expect(seen.sorted() == [0, 1, 2, 3, 4, 5, 6])
    #expect(a.position.epoch == 1)
    let saved = a.position
    let next = try a.nextBatch().batch
    var b = try SequencePairs<Float>(data, batchSize: 3, seed: 4)
    try b.restore(saved)
    #expect(try b.nextBatch().batch == next)
  }
}

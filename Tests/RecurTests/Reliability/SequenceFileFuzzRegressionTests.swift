import Foundation
import Testing

@testable import Recur

/// Inputs found by the sequence-file fuzz target (Fuzz/run-sequence-file.sh), each kept as a test of the fix.
@Suite("Reliability/sequence files found by fuzzing")
struct SequenceFileFuzzRegressionTests {
  /// The message of the error that parsing `text` throws (nil when it parses).
  func message(_ text: String, _ format: SequenceDataset.Format) -> String? {
    do {
      _ = try SequenceDataset.parse(text, format: format)
      return nil
    } catch {
      return error.description
    }
  }

  @Test("a field holding a line break is quoted escaped, so the error stays on one line")
  func escapedFields() throws {
    // Found by the fuzzer: "\r\n" inside a row was quoted verbatim into the message.
    let m = try #require(message("sequence,step,x1,label\n1,\r\u{7},1,-1\n", .csv))
    #expect(m == "line 2: step '\\r\\u{07}' is not an integer")
    let column = try #require(message("sequence,step,x1,q\u{1B}\n", .csv))
    #expect(column == "line 1: column 'q\\u{1B}' is not sequence, step, x…, y… or label")
  }

  @Test("Windows line endings (\\r\\n, one Character in Swift) separate lines in both formats")
  func windowsLineEndings() throws {
    let csv = try SequenceDataset.parse("sequence,step,x1,y1\r\na,0,1,2\r\na,1,3,4\r\nb,0,5,6\r\n", format: .csv)
    #expect(csv.inputs == [[[1], [3]], [[5]]] && csv.targets == [[[2], [4]], [[6]]])
    let jsonl = try SequenceDataset.parse("{\"x\": [1], \"y\": [[2]]}\r\n\r\n{\"x\": [3], \"y\": [[4]]}\r\n", format: .jsonLines)
    #expect(jsonl.inputs == [[[1]], [[3]]] && jsonl.lines == [1, 3])
    #expect(message("{\"x\": [1], \"y\": [[2]]}\r\n{\"x\": [1, 2], \"y\": [[2]]}", .jsonLines) == "line 2: x has 2 steps but y has 1")
  }
}

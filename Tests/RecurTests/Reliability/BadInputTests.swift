import Foundation
import Testing

/// Bad input as a new user gives it, to the built `recur` executable: each case must end with a non-zero exit
/// status (not a signal) and exactly one line on standard error, "Error: …", that says what is wrong.
@Suite("Reliability/bad input gets one clear line")
struct BadInputTests {
  /// One mistaken command line and a fragment of the message it must give.
  struct Case: CustomStringConvertible {
    let label: String
    let arguments: [String]
    let message: String
    var description: String { label }

    init(_ label: String, _ arguments: [String], _ message: String) {
      self.label = label
      self.arguments = arguments
      self.message = message
    }
  }

  /// A folder of inputs good and bad: texts, sequence files, a small language model and a small vector model
  /// (both trained by the executable itself), and damaged checkpoints.
  static func inputs() throws -> ScratchFolder {
    let folder = try ScratchFolder("recur-bad-input")
    try folder.write("text.txt", Array(String(repeating: "the cat sat on the mat. ", count: 100).utf8))
    try folder.write("empty.txt", [])
    try folder.write("short.txt", Array("abc".utf8))
    try folder.write("binary.dat", (0..<1024).map { UInt8($0 % 256) })
    try folder.write("latin1.txt", Array("caf".utf8) + [0xE9] + Array(" au lait ".utf8))
    try folder.write("other.txt", Array(String(repeating: "ZEBRA QUIZ! ", count: 100).utf8))
    try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("folder"), withIntermediateDirectories: false)
    try folder.write("pairs.jsonl", Array(String(repeating: "{\"x\": [[1, 2], [3, 4]], \"y\": [[1], [0]]}\n", count: 12).utf8))
    try folder.write("mismatch.jsonl", Array("{\"x\": [[1], [2]], \"y\": [[1]]}\n{\"x\": [1, 2, 3], \"y\": [1, 2]}\n".utf8))
    try folder.write("per-sequence.jsonl", Array("{\"x\": [1, 0], \"y\": 1}\n{\"x\": [0], \"y\": 0}\n".utf8))
    try folder.write("huge-label.jsonl", Array("{\"x\": [1, 0], \"y\": [0, 16000000]}\n".utf8))
    try folder.write("header-past-end.safetensors", [0x40, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":".utf8))

    let lm = try RecurProcess.run(
      ["train", "--text", "text.txt", "--hidden", "8", "--embedding", "4", "--layers", "1", "--batch-size", "2",
       "--seq-len", "8", "--steps", "2", "--quiet", "--checkpoint", "lm.safetensors"], in: folder.url)
    try #require(lm.status == 0, "training the small language model failed: \(lm.standardError)")
    let vector = try RecurProcess.run(
      ["fit", "--data", "pairs.jsonl", "--hidden", "4", "--steps", "2", "--checkpoint", "vector.safetensors"], in: folder.url)
    try #require(vector.status == 0, "fitting the small vector model failed: \(vector.standardError)")
    // A real checkpoint cut in half, as a copy interrupted part way.
    let whole = try Data(contentsOf: folder.url.appendingPathComponent("lm.safetensors"))
    try folder.write("half.safetensors", Array(whole.prefix(whole.count / 2)))
    return folder
  }

  /// Runs each case in `folder` (default: a fresh ``inputs()`` folder).
  func check(_ cases: [Case], in given: ScratchFolder? = nil) throws {
    let folder = try given ?? Self.inputs()
    for c in cases {
      let result = try RecurProcess.run(c.arguments, in: folder.url)
      let context = Comment(rawValue: "\(c.label): recur \(c.arguments.joined(separator: " "))\n\(result.standardError)")
      #expect(result.signal == nil, context)
      #expect(result.status != nil && result.status != 0, context)
      #expect(result.errorLines.count == 1, context)
      let line = result.errorLines.first ?? ""
      #expect(line.hasPrefix("Error: ") && line.contains(c.message), context)
    }
  }

  @Test("recur train: missing, empty, short, binary, non-UTF-8 and directory inputs")
  func trainFiles() throws {
    try check([
      Case("missing file", ["train", "--text", "missing.txt"], "--text missing.txt: no such file"),
      Case("empty file", ["train", "--text", "empty.txt"], "--text empty.txt is empty"),
      Case("shorter than one chunk", ["train", "--text", "short.txt"], "the text is too short"),
      Case("shorter than one chunk with small batches", ["train", "--text", "text.txt", "--seq-len", "3000", "--batch-size", "1"],
        "the text is too short"),
      Case("binary file in character mode", ["train", "--text", "binary.dat"], "not valid UTF-8 at byte offset 128"),
      Case("invalid UTF-8", ["train", "--text", "latin1.txt"], "not valid UTF-8 at byte offset 3 (byte 0xE9)"),
      Case("directory", ["train", "--text", "folder"], "--text folder is a directory"),
    ])
  }

  @Test("recur prepare: missing, empty, directory and non-UTF-8 texts, an unknown vocabulary, outputs that cannot be written")
  func prepareFiles() throws {
    let prepare = { (text: String, output: String) in ["prepare", "--text", text, "--output", output] }
    try check([
      Case("missing file", prepare("missing.txt", "t.tokens"), "--text missing.txt: no such file"),
      Case("empty file", prepare("empty.txt", "t.tokens"), "--text empty.txt is empty"),
      Case("directory", prepare("folder", "t.tokens"), "--text folder is a directory"),
      Case("invalid UTF-8", prepare("latin1.txt", "t.tokens"), "not valid UTF-8 at byte offset 3 (byte 0xE9)"),
      Case("unknown vocabulary", prepare("text.txt", "t.tokens") + ["--vocabulary", "words"], "'words' is invalid for '--vocabulary"),
      Case("output in a missing folder", prepare("text.txt", "nowhere/t.tokens"), "does not exist"),
      Case("output is a directory", prepare("text.txt", "folder"), "--output folder is a directory"),
    ])
  }

  @Test("recur train: zero, negative, absurd and not-a-number sizes; a model too big for this machine")
  func trainNumbers() throws {
    let t = ["train", "--text", "text.txt"]
    try check([
      Case("--hidden 0", t + ["--hidden", "0"], "--hidden must be at least 1, got 0"),
      Case("--hidden -5", t + ["--hidden", "-5"], "--hidden must be at least 1, got -5"),
      Case("--layers -1", t + ["--layers", "-1"], "--layers must be at least 1, got -1"),
      Case("--hidden absurd", t + ["--hidden", "100000000"], "--hidden 100000000 is absurdly large"),
      Case("--hidden not a number", t + ["--hidden", "lots"], "The value 'lots' is invalid for '--hidden <hidden>'"),
      Case("unknown option", t + ["--batch-size", "2", "--seq-len", "8", "--hiden", "8"], "Unknown option '--hiden'"),
      Case("--batch-size 0", t + ["--batch-size", "0"], "--batch-size must be in 1…100000, got 0"),
      Case("--seq-len negative", t + ["--seq-len", "-3"], "--seq-len must be in 1…1000000, got -3"),
      Case("--lr nan", t + ["--lr", "nan"], "--learning-rate must be positive, got nan"),
      Case("--learning-rate negative", t + ["--learning-rate", "-0.1"], "--learning-rate must be positive, got -0.1"),
      Case("--dropout 1", t + ["--dropout", "1"], "--dropout must be in [0, 1)"),
      Case("memory", t + ["--hidden", "16000", "--layers", "60"], "GB of memory, more than this machine's"),
    ])
  }

  @Test("checkpoints: another model type than the flags say, a vocabulary that misses the text, truncated files")
  func checkpoints() throws {
    try check([
      Case("--init with another cell", ["train", "--text", "text.txt", "--init", "lm.safetensors", "--model", "gru", "--batch-size", "2", "--seq-len", "8"],
        "the --init checkpoint has cell lstm but --cell says gru"),
      Case("--resume with another size", ["train", "--text", "text.txt", "--resume", "lm.safetensors", "--hidden", "16"],
        "--resume has hidden 8 but --hidden says 16"),
      Case("--init from a vector model", ["train", "--text", "text.txt", "--init", "vector.safetensors"],
        "--init vector.safetensors is not a language model"),
      Case("--init vocabulary misses the text", ["train", "--text", "other.txt", "--init", "lm.safetensors"],
        "is not in the vocabulary"),
      Case("--resume truncated", ["train", "--text", "text.txt", "--resume", "half.safetensors"], "--resume half.safetensors: "),
      Case("sample a vector model", ["sample", "--checkpoint", "vector.safetensors"], "is not a language model"),
      Case("sample truncated", ["sample", "--checkpoint", "half.safetensors"], "--checkpoint half.safetensors: "),
      Case("sample header past end", ["sample", "--checkpoint", "header-past-end.safetensors"],
        "header length 64 runs past the end of the file"),
      Case("sample missing", ["sample", "--checkpoint", "missing.safetensors"], "no such file"),
      Case("sample directory", ["sample", "--checkpoint", "folder"], "is a directory"),
      Case("eval truncated", ["eval", "--checkpoint", "half.safetensors", "--text", "text.txt"], "--checkpoint half.safetensors: "),
      Case("eval --data with a language model", ["eval", "--checkpoint", "lm.safetensors", "--data", "pairs.jsonl"],
        "this model reads token ids"),
      Case("eval both --text and --data", ["eval", "--checkpoint", "vector.safetensors", "--data", "pairs.jsonl", "--text", "text.txt"],
        "give one of --text (a language model) or --data (a fitted model)"),
      Case("eval --data with mismatched lengths", ["eval", "--checkpoint", "vector.safetensors", "--data", "mismatch.jsonl"],
        "line 2: x has 3 steps but y has 2"),
      Case("predict truncated", ["predict", "--checkpoint", "half.safetensors", "--data", "pairs.jsonl"], "safetensors"),
      Case("predict with a language model", ["predict", "--checkpoint", "lm.safetensors", "--data", "pairs.jsonl"],
        "this model reads token ids"),
      Case("gradients truncated", ["gradients", "--checkpoint", "half.safetensors"], "safetensors"),
      Case("extract truncated", ["extract", "--checkpoint", "header-past-end.safetensors"], "header length 64"),
    ])
  }

  @Test("recur fit and predict: mismatched x/y lengths, missing, empty, non-UTF-8 and directory inputs, bad numbers")
  func sequenceFiles() throws {
    try check([
      Case("mismatched x/y lengths", ["fit", "--data", "mismatch.jsonl"], "line 1: x has 2 steps but y has 1"),
      Case("missing file", ["fit", "--data", "missing.jsonl"], "missing.jsonl: No such file or directory"),
      Case("directory", ["fit", "--data", "folder"], "folder: Is a directory"),
      Case("empty file", ["fit", "--data", "empty.txt"], "the file holds no sequences"),
      Case("invalid UTF-8", ["fit", "--data", "latin1.txt"], "is not UTF-8 text (an invalid byte near offset 3)"),
      Case("predict missing data", ["predict", "--checkpoint", "vector.safetensors", "--data", "missing.jsonl"],
        "No such file or directory"),
      Case("--hidden 0", ["fit", "--data", "pairs.jsonl", "--hidden", "0"], "--hidden must be at least 1, got 0"),
      Case("--hidden -2", ["fit", "--data", "pairs.jsonl", "--hidden", "-2"], "--hidden must be at least 1, got -2"),
      Case("--learning-rate nan", ["fit", "--data", "pairs.jsonl", "--learning-rate", "nan"], "--learning-rate must be positive"),
      Case("a label that makes 16 million classes", ["fit", "--data", "huge-label.jsonl", "--hidden", "4096"],
        "GB of memory, more than this machine's"),
      Case("task --hidden absurd", ["task", "parity", "--hidden", "70000"], "--hidden 70000 is absurdly large (the most is 65536)"),
      Case("--lr and --learning-rate both", ["task", "parity", "--lr", "0.1", "--learning-rate", "0.1"],
        "--lr is the older spelling of --learning-rate; give one of them"),
      Case("task --optimizer unknown", ["task", "parity", "--optimizer", "lbfgs"], "The value 'lbfgs' is invalid for '--optimizer <optimizer>'"),
      Case("fit --readout unknown", ["fit", "--data", "pairs.jsonl", "--readout", "avg"], "The value 'avg' is invalid for '--readout <readout>'"),
      Case("fit --class-weights not numbers", ["fit", "--data", "pairs.jsonl", "--class-weights", "1,x"],
        "--class-weights must be 'balanced' or numbers ≥ 0 separated by commas, got '1,x'"),
      Case("fit --class-weights on per-step values", ["fit", "--data", "pairs.jsonl", "--class-weights", "balanced"],
        "--class-weights applies to one class label per sequence; this file has values targets per step"),
      Case("fit --target-per step for per-sequence labels", ["fit", "--data", "per-sequence.jsonl", "--target-per", "step"],
        "line 1: y is one target for the whole sequence, but the targets were said to be one per step"),
      Case("fit --class-weights of the wrong count", ["fit", "--data", "per-sequence.jsonl", "--class-weights", "1,2,3"],
        "--class-weights: 3 class weights given for 2 classes"),
      Case("predict both --data and --stream", ["predict", "--checkpoint", "vector.safetensors", "--data", "pairs.jsonl", "--stream"],
        "give one of --data (a file of sequences) or --stream (steps on standard input)"),
      Case("predict --stream with a language model", ["predict", "--checkpoint", "lm.safetensors", "--stream"],
        "this model reads token ids"),
    ])
  }
}

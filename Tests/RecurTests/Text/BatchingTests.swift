import Testing

@testable import Recur

@Suite("Training pairs from a text: split, streams, lines")
struct BatchingTests {
  @Test("split/the first 90% trains, the last 10% validates, by token position")
  func validationSplit() throws {
    let corpus = Corpus(vocabulary: .bytes, tokens: (0..<25).map(Int32.init))
    let (training, validation) = try corpus.split()
    #expect(training == (0..<23).map(Int32.init))
    #expect(validation == [23, 24])
    let none = try corpus.split(validationFraction: 0)
    #expect(none.training.count == 25 && none.validation.isEmpty)
    #expect(throws: TextError.self) { try corpus.split(validationFraction: 1) }
  }

  @Test("streams/B contiguous streams, x = c[i..<i+T], y = c[i+1...i+T], time-major")
  func streamPositions() throws {
    let tokens = (0..<23).map(Int32.init)
    var streams = try StreamBatches(tokens: tokens, batchSize: 2, steps: 4)
    #expect(streams.streamLength == 11)
    #expect(streams.chunksPerEpoch == 2)
    let first: StreamBatches.Chunk<Float> = streams.next()
    #expect(first.startsStream)
    #expect(first.batch.steps == 4 && first.batch.batchSize == 2)
    // Time-major: row t·B + b. Stream 0 starts at 0, stream 1 at L = 11.
    #expect(first.batch.inputs == .tokens([0, 11, 1, 12, 2, 13, 3, 14]))
    #expect(first.batch.targets == .classes([1, 12, 2, 13, 3, 14, 4, 15]))
    let second: StreamBatches.Chunk<Float> = streams.next()
    #expect(!second.startsStream)
    #expect(second.batch.inputs == .tokens([4, 15, 5, 16, 6, 17, 7, 18]))
    #expect(second.batch.targets == .classes([5, 16, 6, 17, 7, 18, 8, 19]))
    // The epoch wraps to the starts of the streams.
    #expect(streams.position == .init(epoch: 1, chunk: 0))
    let third: StreamBatches.Chunk<Float> = streams.next()
    #expect(third.startsStream && third.batch == first.batch)
  }

  @Test("streams/each chunk continues where the previous one stopped")
  func streamContinuity() throws {
    var rng = SeededGenerator(seed: 3)
    let tokens = (0..<1000).map { _ in Int32(rng.next() % 50) }
    var streams = try StreamBatches(tokens: tokens, batchSize: 3, steps: 7)
    var previous: StreamBatches.Chunk<Float> = streams.next()
    for _ in 1..<streams.chunksPerEpoch {
      let chunk: StreamBatches.Chunk<Float> = streams.next()
      guard case .tokens(let x) = chunk.batch.inputs, case .classes(let y) = chunk.batch.targets,
        case .classes(let yPrevious) = previous.batch.targets
      else { Issue.record("token batches expected"); return }
      for b in 0..<3 {
        // The last target of the previous chunk is the first input of this one.
        #expect(x[b] == yPrevious[6 * 3 + b])
        for t in 0..<7 {
          let i = b * streams.streamLength + chunk.position.chunk * 7 + t
          #expect(x[t * 3 + b] == tokens[i] && y[t * 3 + b] == tokens[i + 1])
        }
      }
      previous = chunk
    }
  }

  @Test("streams/a saved position resumes the exact sequence of chunks")
  func streamResume() throws {
    let tokens = (0..<200).map { Int32($0 % 31) }
    var a = try StreamBatches(tokens: tokens, batchSize: 4, steps: 5)
    for _ in 0..<13 { let _: StreamBatches.Chunk<Float> = a.next() }
    var b = try StreamBatches(tokens: tokens, batchSize: 4, steps: 5)
    b.position = a.position
    #expect(b.position == .init(epoch: 1, chunk: 4))
    for _ in 0..<20 {
      let x: StreamBatches.Chunk<Float> = a.next(), y: StreamBatches.Chunk<Float> = b.next()
      #expect(x.batch == y.batch && x.position == y.position)
    }
  }

  @Test("streams/text shorter than one chunk is a clear error stating the needed length")
  func streamTooShort() throws {
    let error = #expect(throws: TextError.self) {
      try StreamBatches(tokens: Array(repeating: 1, count: 64), batchSize: 8, steps: 8)
    }
    #expect(error == .textTooShort(tokens: 64, needed: 65, purpose: "one chunk of 8 streams × 8 steps (B·T + 1)"))
    #expect(error?.description.contains("at least 65 tokens") == true)
    #expect(try StreamBatches(tokens: Array(repeating: 1, count: 65), batchSize: 8, steps: 8).chunksPerEpoch == 1)
  }

  @Test("lines/x = (<start>, c_1 … c_k), y = (c_1 … c_k, <end>), batched with masks")
  func linePairs() throws {
    let text = "ab\n\ncde\r\nf"
    let corpus = try Corpus(text: Array(text.utf8), kind: .characters)
    let v = corpus.vocabulary
    let lines = try SequenceBatches(
      tokens: corpus.tokens, vocabulary: v, segmentation: .lines, batchSize: 3, maxSteps: 10)
    #expect(lines.sequences.count == 3)
    let s = Int(v.startToken), e = Int(v.endToken)
    func ids(_ string: String) throws -> [Int] { try v.encode(string).map(Int.init) }
    #expect(lines.pair(0).x == [s] + (try ids("ab")))
    #expect(lines.pair(0).y == (try ids("ab")) + [e])
    #expect(lines.pair(1).x == [s] + (try ids("cde")))
    #expect(lines.pair(1).y == (try ids("cde")) + [e])
    #expect(lines.pair(2).x == [s] + (try ids("f")))
    #expect(lines.pair(2).y == (try ids("f")) + [e])
    let batch: SequenceBatch<Float> = lines.batch(of: [0, 1, 2])
    #expect(batch.steps == 4 && batch.lengths == [3, 4, 2])
    #expect(batch.elementCount == 9)
    guard case .classes(let y) = batch.targets else { Issue.record("class targets expected"); return }
    // Padded steps carry no target (−1): sequence 0 at t = 3, sequence 2 at t = 2, 3.
    #expect(y[3 * 3 + 0] == -1 && y[2 * 3 + 2] == -1 && y[3 * 3 + 2] == -1)
    #expect(y[2 * 3 + 0] == Int32(e) && y[1 * 3 + 2] == Int32(e) && y[3 * 3 + 1] == Int32(e))
  }

  @Test("documents/runs of lines separated by blank lines")
  func documents() throws {
    let corpus = try Corpus(text: Array("ab\ncd\n\n\nef\n".utf8), kind: .characters)
    let docs = try SequenceBatches(
      tokens: corpus.tokens, vocabulary: corpus.vocabulary, segmentation: .documents, batchSize: 2, maxSteps: 10)
    #expect(docs.sequences.count == 2)
    #expect(corpus.vocabulary.decode(corpus.tokens[docs.sequences[0]]) == "ab\ncd")
    #expect(corpus.vocabulary.decode(corpus.tokens[docs.sequences[1]]) == "ef")
    let error = #expect(throws: TextError.self) {
      try SequenceBatches(
        tokens: corpus.tokens, vocabulary: corpus.vocabulary, segmentation: .documents, batchSize: 2, maxSteps: 5)
    }
    #expect(error == .sequenceTooLong(index: 0, steps: 6, maxSteps: 5))
  }

  /// A text of 40 lines of lengths 1 … 40.
  static func manyLines(seed: UInt64, bucket: Bool) throws -> SequenceBatches {
    let text = (1...40).map { String(repeating: "x", count: $0) }.joined(separator: "\n")
    let corpus = try Corpus(text: Array(text.utf8), kind: .characters)
    return try SequenceBatches(
      tokens: corpus.tokens, vocabulary: corpus.vocabulary, segmentation: .lines, batchSize: 6, maxSteps: 64,
      bucketByLength: bucket, seed: seed)
  }

  @Test("lines/each epoch visits every pair once in a seeded order; a position resumes exactly")
  func lineSchedule() throws {
    for bucket in [false, true] {
      let batches = try Self.manyLines(seed: 7, bucket: bucket)
      #expect(batches.batchesPerEpoch == 7)
      let e0 = batches.schedule(epoch: 0), e1 = batches.schedule(epoch: 1)
      #expect(e0.flatMap { $0 }.sorted() == Array(0..<40))
      #expect(e1.flatMap { $0 }.sorted() == Array(0..<40))
      #expect(e0 != e1)
      #expect(e0 == (try Self.manyLines(seed: 7, bucket: bucket)).schedule(epoch: 0))
      #expect(e0 != (try Self.manyLines(seed: 8, bucket: bucket)).schedule(epoch: 0))
      var a = batches
      for _ in 0..<9 { let _: SequenceBatch<Float> = a.next() }
      #expect(a.position == .init(epoch: 1, batch: 2))
      var b = try Self.manyLines(seed: 7, bucket: bucket)
      b.position = a.position
      for _ in 0..<10 { #expect(a.next(as: Float.self) == b.next(as: Float.self)) }
    }
  }

  @Test("lines/bucketing by length reduces padding")
  func bucketing() throws {
    func padding(_ batches: SequenceBatches) -> Int {
      batches.schedule(epoch: 0).reduce(0) { total, indices in
        let lengths = indices.map { batches.sequences[$0].count }
        return total + lengths.map { lengths.max()! - $0 }.reduce(0, +)
      }
    }
    // All 40 lines fit one window, so bucketed batches hold consecutive lengths.
    let bucketed = try Self.manyLines(seed: 1, bucket: true)
    for indices in bucketed.schedule(epoch: 0) {
      let lengths = indices.map { bucketed.sequences[$0].count }.sorted()
      #expect(lengths.last! - lengths.first! == lengths.count - 1)
    }
    #expect(padding(bucketed) < padding(try Self.manyLines(seed: 1, bucket: false)))
  }
}

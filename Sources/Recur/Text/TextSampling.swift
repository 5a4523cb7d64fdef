/// How a language model's training pairs were made from its text, which decides how it is sampled.
public enum TextMode: String, Sendable, Codable, CaseIterable {
  /// B contiguous streams with truncated BPTT (``StreamBatches``): the model continues running text.
  case stream
  /// One pair per line (``SequenceBatches``, ``SequenceBatches/Segmentation/lines``): the model writes one
  /// line from `<start>` to `<end>`.
  case lines
  /// One pair per blank-line-separated document (``SequenceBatches/Segmentation/documents``).
  case documents

  /// The segmentation of the per-sequence modes; nil for streams.
  public var segmentation: SequenceBatches.Segmentation? {
    switch self {
    case .stream: nil
    case .lines: .lines
    case .documents: .documents
    }
  }
}

extension TextSampler {
  /// Writes text with a language model: reads a prime, then draws up to `length` tokens, passing the bytes
  /// of the prime and then of each drawn token to `output` as soon as they are known.
  ///
  /// - Stream mode: the model first reads a line break (so that it starts as after the end of a line, or
  ///   `<start>` when the vocabulary has no line break), then the prime as running text.
  /// - Lines and documents modes: the model reads `<start>` and the prime, and stops at `<end>`, as the
  ///   chapter's construction x = (<start>, c_1 … c_k), y = (c_1 … c_k, <end>) trained it to.
  ///
  /// - Parameters:
  ///   - vocabulary: the model's vocabulary (V must match).
  ///   - mode: how the model was trained.
  ///   - prime: text to start from; every character must be in the vocabulary.
  ///   - length: the most tokens to draw.
  ///   - options: temperature and top-k.
  ///   - generator: the source of randomness.
  ///   - output: receives UTF-8 bytes (raw bytes for a bytes vocabulary) as they come.
  /// - Returns: the drawn tokens (without the prime).
  @discardableResult
  public func generateText(
    vocabulary: Vocabulary, mode: TextMode, prime: String = "", length: Int,
    options: SamplingOptions = SamplingOptions(), using generator: inout SeededGenerator,
    output: ([UInt8]) -> Void = { _ in }
  ) throws -> [Int] {
    guard vocabulary.count == vocabularySize else {
      throw ModelError("the vocabulary has \(vocabulary.count) tokens but the network has \(vocabularySize)")
    }
    let primeTokens = try vocabulary.encode(prime).map(Int.init)
    let lead: [Int]
    switch mode {
    case .stream:
      // A line break first, so that a prime such as "ROMEO:" reads as the start of a line, as in the text.
      let lineBreak = vocabulary.newlineToken.map(Int.init)
      lead = primeTokens.first == lineBreak && lineBreak != nil ? [] : [lineBreak ?? Int(vocabulary.startToken)]
    case .lines, .documents: lead = [Int(vocabulary.startToken)]
    }
    if !primeTokens.isEmpty { output(Array(prime.utf8)) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(4)
    return try generate(
      prime: lead + primeTokens, count: length, options: options, using: &generator,
      stopToken: mode == .stream ? nil : Int(vocabulary.endToken)
    ) { token in
      bytes.removeAll(keepingCapacity: true)
      vocabulary.appendBytes(of: Int32(token), to: &bytes)
      if !bytes.isEmpty { output(bytes) }
    }
  }
}

import Foundation
import Recur

/// The demo's language-model section: the chapter's <start>/<end> construction on generated sentences.
extension DemoSection {
  /// A small generated language: sentences of a subject, a verb, an object and an optional adverb.
  struct SentenceGrammar {
    static let subjects = ["the cat", "the dog", "a bird", "my friend", "the old man"]
    static let verbs = ["sees", "likes", "chases", "finds"]
    static let objects = ["the ball", "a fish", "the moon", "some bread"]
    static let adverbs = ["", " today", " again"]

    /// Every sentence of the language.
    static let sentences: Set<String> = Set(
      subjects.flatMap { s in
        verbs.flatMap { v in objects.flatMap { o in adverbs.map { a in "\(s) \(v) \(o)\(a)." } } }
      })

    static func sample(count: Int, using rng: inout SeededGenerator) -> [String] {
      (0..<count).map { _ in
        func pick(_ words: [String]) -> String { words[Int(rng.next() % UInt64(words.count))] }
        return "\(pick(subjects)) \(pick(verbs)) \(pick(objects))\(pick(adverbs))."
      }
    }
  }

  static let languageModel = DemoSection(
    title: "An RNN language model learns a small language",
    chapterSection: "RNN as a language model"
  ) { context in
    context.say("""
      A language model predicts each token from the ones before it. The chapter turns a sentence c_1 … c_k into
      the training pair x = (<start>, c_1, …, c_k), y = (c_1, …, c_k, <end>). Here the sentences come from a
      small generated grammar (subject, verb, object, optional adverb: \(SentenceGrammar.sentences.count) sentences);
      an LSTM (E = 16, m = 64) reads characters, trains on the pairs of 2,000 sentences with masks for their
      different lengths, and then samples new lines from <start> until it emits <end>.
      """)
    var rng = SeededGenerator(seed: 11)
    let trainingText = SentenceGrammar.sample(count: 2000, using: &rng).joined(separator: "\n") + "\n"
    let heldOutText = SentenceGrammar.sample(count: 200, using: &rng).joined(separator: "\n") + "\n"
    let corpus = try Corpus(text: Array(trainingText.utf8), kind: .characters)
    let vocabulary = corpus.vocabulary
    let heldOut = try vocabulary.encode(heldOutText)
    let network = try RecurrentNetwork<Float>(
      .languageModel(cell: .lstm, vocabularySize: vocabulary.count, embeddingSize: 16, hiddenSize: 64, layers: 1),
      seed: 5)
    let lines = try SequenceBatches(
      tokens: corpus.tokens, vocabulary: vocabulary, segmentation: .lines, batchSize: 32, maxSteps: 64, seed: 3)
    let steps = context.quick ? 250 : 1200
    let trainer = try Trainer(
      network: network, data: TextBatches<Float>(.sequences(lines)),
      options: TrainerOptions(
        optimizer: .adam(learningRate: 0.01), clipping: .globalNorm(5), loss: .crossEntropy,
        reduction: .meanOverSteps, budget: TrainingBudget(steps: steps), seed: 1))
    let start = Date()
    _ = try trainer.run()
    let seconds = Date().timeIntervalSince(start)
    let trained = trainer.network

    // Held-out loss per predicted token, over the chapter's pairs of sentences the model never saw.
    var heldOutLines = try SequenceBatches(
      tokens: heldOut, vocabulary: vocabulary, segmentation: .lines, batchSize: 50, maxSteps: 64, seed: 4)
    var sum = 0.0, count = 0
    for _ in 0..<heldOutLines.batchesPerEpoch {
      let batch: SequenceBatch<Float> = heldOutLines.next()
      let result = try trained.loss(for: batch, loss: .crossEntropy, reduction: .sum)
      sum += result.elementLossSum
      count += result.elementCount
    }
    context.say(String(format: "%d updates in %.1f s", steps, seconds))
    context.printTable([
      ["held-out sentences", "nats per token"],
      ["uniform guess, log V", String(format: "%.3f", Foundation.log(Double(vocabulary.count)))],
      ["trained LSTM", String(format: "%.3f", sum / Double(max(count, 1)))],
    ])

    let generator = try TextSampler(network: trained)
    var sampler = SeededGenerator(seed: 21)
    var sampled: [String] = []
    for _ in 0..<8 {
      var bytes: [UInt8] = []
      _ = try generator.generateText(
        vocabulary: vocabulary, mode: .lines, length: 80, options: SamplingOptions(temperature: 0.7),
        using: &sampler
      ) { bytes += $0 }
      sampled.append(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines))
    }
    let valid = sampled.filter { SentenceGrammar.sentences.contains($0) }.count
    context.say("Sampled lines (temperature 0.7), each from <start> to <end>:")
    for line in sampled { context.say("  \(SentenceGrammar.sentences.contains(line) ? "✓" : "·") \(line)") }
    context.say("\(valid) of \(sampled.count) sampled lines are sentences of the grammar.")
    guard context.quick || valid >= sampled.count / 2 else {
      throw DemoFailure("the language model produced only \(valid) grammatical lines of \(sampled.count)")
    }
  }
}

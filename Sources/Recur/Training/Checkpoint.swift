import Foundation

/// A checkpoint that cannot be read or used: the message names the file's problem in one line.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The one-line message.
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// One training checkpoint in one safetensors file (the `recur-lm-1` contract): the model's configuration
/// (metadata) and parameters (PyTorch `state_dict` names), and, for a run that can be resumed, the optimizer
/// state, the trainer's options and position and its random states, plus free metadata for other layers
/// (for example a vocabulary).
///
/// Layout:
/// - metadata `format` = `recur-lm-1`; `model.cell` (``CellKind/description``); `model.hidden_size`,
///   `model.num_layers`, `model.dropout`; for token models `model.vocab_size` and `model.embedding_size`; for
///   vector models `model.input_size`, `model.output_size`, `model.output_activation` (also written for token
///   models whose head is not a V-way softmax).
/// - tensors `embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`, `head.bias` in the network's precision
///   (`F32` for `Float` networks, `F64` for `Double`).
/// - Recur's own entries, all under `recur.`: tensors `recur.optimizer.<buffer>.<parameter>` (for example
///   `recur.optimizer.exp_avg.rnn.weight_ih_l0`) and `recur.trainer.state.h_l<k>` / `c_l<k>` (the carried
///   state); metadata `recur.optimizer.step` and `recur.trainer.*` (options as JSON, step, data position,
///   random states as hexadecimal words, loss bookkeeping as exact decimal strings).
/// - With weight averaging (``WeightAverage``): tensors `recur.average.<parameter>` (θ̄, for example
///   `recur.average.rnn.weight_ih_l0`, every parameter, same dtype and shape) and metadata
///   `recur.average.kind` (`exponential` or `uniform`), `recur.average.decay` (β, exponential only),
///   `recur.average.start`, `recur.average.count` (n) and `recur.average.summary` (one readable line).
public struct Checkpoint<Scalar: RecurScalar>: Sendable {
  /// The model: configuration and parameters.
  public var network: RecurrentNetwork<Scalar>
  /// The optimizer's buffers and step count (nil: a fresh optimizer).
  public var optimizerState: OptimizerState<Scalar>?
  /// Where the run was (nil: a model without a run to resume).
  public var position: TrainingPosition<Scalar>?
  /// How the run trained.
  public var options: TrainerOptions?
  /// Metadata of other layers; keys `format`, `model.*` and `recur.*` are the checkpoint's own and are ignored
  /// here when writing.
  public var metadata: [String: String]
  /// θ̄, the run's average of the weights (nil: none).
  public var average: WeightAverage<Scalar>?

  /// A checkpoint of a network, with the optional optimizer state, run position, options and extra metadata
  /// (for example ``Vocabulary/metadata``).
  public init(
    network: RecurrentNetwork<Scalar>, optimizerState: OptimizerState<Scalar>? = nil,
    position: TrainingPosition<Scalar>? = nil, options: TrainerOptions? = nil, metadata: [String: String] = [:],
    average: WeightAverage<Scalar>? = nil
  ) {
    self.network = network
    self.optimizerState = optimizerState
    self.position = position
    self.options = options
    self.metadata = metadata
    self.average = average
  }

  /// The weights a trained model is used with by default: θ̄ when the checkpoint holds an average of at least
  /// one iterate, θ otherwise.
  public var evaluationNetwork: RecurrentNetwork<Scalar> {
    if let average, average.count > 0 { return average.network }
    return network
  }

  /// The value of metadata `format`.
  public static var formatName: String { "recur-lm-1" }

  /// Whether a metadata key belongs to the checkpoint itself rather than to ``metadata``.
  static func isOwnKey(_ key: String) -> Bool {
    key == "format" || key.hasPrefix("model.") || key.hasPrefix("recur.")
  }

  // MARK: Writing

  /// The checkpoint as a safetensors file.
  public func safeTensorsFile() throws -> SafeTensorsFile {
    var meta = metadata.filter { !Self.isOwnKey($0.key) }
    for (key, value) in Self.metadata(for: network.configuration) { meta[key] = value }
    var file = SafeTensorsFile(metadata: [:])
    try network.forEachParameter { name, tensor in try file.add(tensor, named: name) }
    if let optimizerState {
      meta["recur.optimizer.step"] = String(optimizerState.step)
      for (name, tensor) in optimizerState.namedTensors { try file.add(tensor, named: "recur.optimizer." + name) }
    }
    if let average {
      meta["recur.average.count"] = String(average.count)
      meta["recur.average.start"] = String(average.averaging.start)
      meta["recur.average.summary"] = average.summary
      switch average.averaging {
      case .exponential(let decay, _):
        meta["recur.average.kind"] = "exponential"
        meta["recur.average.decay"] = "\(decay)"
      case .uniform:
        meta["recur.average.kind"] = "uniform"
      }
      try average.network.forEachParameter { name, tensor in try file.add(tensor, named: "recur.average." + name) }
    }
    if let options {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      meta["recur.trainer.options"] = String(decoding: try encoder.encode(options), as: UTF8.self)
    }
    if let position {
      meta["recur.trainer.step"] = String(position.step)
      meta["recur.trainer.epoch"] = String(position.data.epoch)
      meta["recur.trainer.batch_index"] = String(position.data.batchIndex)
      meta["recur.trainer.data_generator"] = Self.hex(position.data.generator)
      meta["recur.trainer.dropout_generator"] = Self.hex(position.dropoutGenerator)
      meta["recur.trainer.elapsed"] = "\(position.elapsed)"
      meta["recur.trainer.starting_losses"] = position.startingLosses.map { "\($0)" }.joined(separator: ",")
      if let v = position.lastValidationLoss { meta["recur.trainer.last_val_loss"] = "\(v)" }
      if let v = position.bestValidationLoss { meta["recur.trainer.best_val_loss"] = "\(v)" }
      meta["recur.trainer.validations_without_improvement"] = String(position.validationsWithoutImprovement)
      if let state = position.carriedState {
        for (k, h) in state.h.enumerated() { try file.add(h, named: "recur.trainer.state.h_l\(k)") }
        for (k, c) in state.c.enumerated() { try file.add(c, named: "recur.trainer.state.c_l\(k)") }
      }
    }
    file.metadata = meta
    return file
  }

  /// Writes the checkpoint atomically: a reader (or a crash at any moment) sees the old file or the new one,
  /// whole.
  public func write(to url: URL) throws {
    try safeTensorsFile().write(to: url)
  }

  /// The `recur-lm-1` model metadata of a configuration.
  public static func metadata(for configuration: RecurrentNetwork<Scalar>.Configuration) -> [String: String] {
    var meta: [String: String] = [
      "format": formatName,
      "model.cell": configuration.cell.description,
      "model.hidden_size": String(configuration.hiddenSize),
      "model.num_layers": String(configuration.layers),
      "model.dropout": "\(configuration.dropout)",
    ]
    if configuration.bidirectional { meta["model.bidirectional"] = "true" }
    for (name, p) in configuration.regularization.named where p > 0 { meta["model." + name] = "\(p)" }
    if let e = configuration.embeddingSize {
      meta["model.vocab_size"] = String(configuration.inputSize)
      meta["model.embedding_size"] = String(e)
    } else {
      meta["model.input_size"] = String(configuration.inputSize)
    }
    if configuration.embeddingSize == nil || configuration.outputSize != configuration.inputSize
      || configuration.outputActivation != .softmax
    {
      meta["model.output_size"] = String(configuration.outputSize)
      meta["model.output_activation"] = configuration.outputActivation.rawValue
    }
    return meta
  }

  static func hex(_ generator: SeededGenerator) -> String {
    generator.stateWords.map { word in
      let digits = String(word, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }.joined(separator: ",")
  }

  // MARK: Reading

  /// Reads and validates a checkpoint: the safetensors framing, the model metadata, every parameter's
  /// presence, dtype and shape against the configuration, no unknown tensors, and the optimizer and trainer
  /// entries when present.
  ///
  /// - Throws: ``SafeTensorsError`` for a malformed file, ``CheckpointError`` naming the first inconsistency.
  public init(contentsOf url: URL) throws {
    try self.init(try SafeTensorsFile(contentsOf: url))
  }

  /// A checkpoint from an already read safetensors file (see ``init(contentsOf:)``).
  public init(_ file: SafeTensorsFile) throws {
    let meta = file.metadata
    guard let format = meta["format"] else { throw CheckpointError("no 'format' metadata: not a Recur checkpoint") }
    guard format == Self.formatName else {
      throw CheckpointError("format is '\(format)', expected '\(Self.formatName)'")
    }
    let configuration = try Self.configuration(from: meta)
    var network = try RecurrentNetwork<Scalar>(configuration, seed: 0)
    let describe = "\(configuration.layers)-layer \(configuration.cell) with H = \(configuration.hiddenSize)"
    var expected = Set<String>()
    try network.updateEachParameter { name, tensor in
      expected.insert(name)
      guard let entry = file.entry(named: name) else {
        throw CheckpointError("tensor '\(name)' is missing (the metadata describe a \(describe))")
      }
      guard entry.shape == tensor.shape else {
        throw CheckpointError(
          "tensor '\(name)' has shape \(entry.shape) but the metadata (\(describe)) need \(tensor.shape)")
      }
      tensor = try Self.floats(file, name)
    }
    if let extra = file.names.sorted().first(where: { !expected.contains($0) && !$0.hasPrefix("recur.") }) {
      throw CheckpointError("unexpected tensor '\(extra)' for a \(describe)")
    }
    self.network = network

    let optimizerNames = file.names.filter { $0.hasPrefix("recur.optimizer.") }
    if let stepText = meta["recur.optimizer.step"] {
      let step = try Self.integer("recur.optimizer.step", stepText)
      var named: [(name: String, tensor: Tensor<Scalar>)] = []
      let shapes = Dictionary(uniqueKeysWithValues: network.namedParameters.map { ($0.name, $0.tensor.shape) })
      for name in optimizerNames {
        let short = String(name.dropFirst("recur.optimizer.".count))
        let tensor: Tensor<Scalar> = try Self.floats(file, name)
        guard let dot = short.firstIndex(of: "."), let shape = shapes[String(short[short.index(after: dot)...])] else {
          throw CheckpointError("optimizer tensor '\(name)' names no parameter of the model")
        }
        guard tensor.shape == shape else {
          throw CheckpointError("optimizer tensor '\(name)' has shape \(tensor.shape), its parameter \(shape)")
        }
        named.append((short, tensor))
      }
      do { optimizerState = try OptimizerState(step: step, namedTensors: named) } catch let error as OptimizerError {
        throw CheckpointError(error.message)
      }
    } else if let first = optimizerNames.first {
      throw CheckpointError("optimizer tensor '\(first)' without 'recur.optimizer.step' metadata")
    } else {
      optimizerState = nil
    }

    if let json = meta["recur.trainer.options"] {
      do { options = try JSONDecoder().decode(TrainerOptions.self, from: Data(json.utf8)) } catch {
        throw CheckpointError("metadata 'recur.trainer.options' is not valid trainer options: \(error)")
      }
    } else {
      options = nil
    }
    position = try meta["recur.trainer.step"] == nil ? nil : Self.position(file, configuration: configuration)
    average = try Self.average(file, network: network)
    metadata = meta.filter { !Self.isOwnKey($0.key) }
  }

  /// The average the `recur.average.*` entries describe (nil when there are none).
  static func average(_ file: SafeTensorsFile, network: RecurrentNetwork<Scalar>) throws -> WeightAverage<Scalar>? {
    let meta = file.metadata
    let names = file.names.filter { $0.hasPrefix("recur.average.") }
    guard let kind = meta["recur.average.kind"] else {
      if let first = names.first { throw CheckpointError("average tensor '\(first)' without 'recur.average.kind' metadata") }
      return nil
    }
    func int(_ key: String) throws -> Int {
      guard let text = meta[key] else { throw CheckpointError("metadata '\(key)' is missing") }
      return try integer(key, text)
    }
    let start = try int("recur.average.start"), count = try int("recur.average.count")
    let averaging: WeightAveraging
    switch kind {
    case "exponential":
      guard let decay = try decimal(meta, "recur.average.decay") else {
        throw CheckpointError("metadata 'recur.average.decay' is missing")
      }
      averaging = .exponential(decay: decay, start: start)
    case "uniform": averaging = .uniform(start: start)
    default: throw CheckpointError("metadata 'recur.average.kind' is '\(kind)', not exponential or uniform")
    }
    do { try averaging.validate() } catch let error as WeightAveragingError { throw CheckpointError(error.message) }
    guard count >= 0 else { throw CheckpointError("metadata 'recur.average.count' is \(count), not 0 or more") }
    var averaged = network
    var expected = Set<String>()
    try averaged.updateEachParameter { name, tensor in
      let full = "recur.average." + name
      expected.insert(full)
      guard let entry = file.entry(named: full) else { throw CheckpointError("average tensor '\(full)' is missing") }
      guard entry.shape == tensor.shape else {
        throw CheckpointError("average tensor '\(full)' has shape \(entry.shape), its parameter \(tensor.shape)")
      }
      tensor = try floats(file, full)
    }
    if let extra = names.sorted().first(where: { !expected.contains($0) }) {
      throw CheckpointError("average tensor '\(extra)' names no parameter of the model")
    }
    return WeightAverage(averaging: averaging, network: averaged, count: count)
  }

  /// The configuration the `model.*` metadata describe.
  ///
  /// - Throws: ``CheckpointError`` naming a missing or malformed key, or an out-of-range size.
  public static func configuration(from meta: [String: String]) throws -> RecurrentNetwork<Scalar>.Configuration {
    func required(_ key: String) throws -> String {
      guard let value = meta[key] else { throw CheckpointError("metadata '\(key)' is missing") }
      return value
    }
    let cellName = try required("model.cell")
    guard let cell = CellKind(cellName) else { throw CheckpointError("metadata 'model.cell' is '\(cellName)', not a known cell") }
    let hidden = try integer("model.hidden_size", try required("model.hidden_size"))
    let layers = try integer("model.num_layers", try required("model.num_layers"))
    let dropoutText = meta["model.dropout"] ?? "0"
    guard let dropout = Double(dropoutText) else {
      throw CheckpointError("metadata 'model.dropout' is '\(dropoutText)', not a number")
    }
    var regularization = Regularization()
    for (name, path) in [("embedding_dropout", \Regularization.embeddingDropout), ("input_dropout", \.inputDropout),
      ("hidden_dropout", \.hiddenDropout), ("output_dropout", \.outputDropout), ("weight_drop", \.weightDrop)]
    {
      guard let text = meta["model." + name] else { continue }
      guard let p = Double(text) else { throw CheckpointError("metadata 'model.\(name)' is '\(text)', not a number") }
      regularization[keyPath: path] = p
    }
    let inputSize: Int, embedding: Int?
    if let vocab = meta["model.vocab_size"] {
      inputSize = try integer("model.vocab_size", vocab)
      embedding = try integer("model.embedding_size", try required("model.embedding_size"))
    } else {
      inputSize = try integer("model.input_size", try required("model.input_size"))
      embedding = nil
    }
    let outputSize = try meta["model.output_size"].map { try integer("model.output_size", $0) }
    let activation: OutputActivation
    if let name = meta["model.output_activation"] {
      guard let a = OutputActivation(rawValue: name) else {
        throw CheckpointError("metadata 'model.output_activation' is '\(name)', not a known activation")
      }
      activation = a
    } else if embedding != nil {
      activation = .softmax
    } else {
      throw CheckpointError("metadata 'model.output_activation' is missing")
    }
    if embedding == nil, outputSize == nil { throw CheckpointError("metadata 'model.output_size' is missing") }
    let configuration = RecurrentNetwork<Scalar>.Configuration(
      cell: cell, inputSize: inputSize, embeddingSize: embedding, hiddenSize: hidden, layers: layers,
      outputSize: outputSize ?? inputSize, outputActivation: activation, dropout: dropout,
      bidirectional: try {
        switch meta["model.bidirectional"] {
        case nil, "false": return false
        case "true": return true
        case let other?: throw CheckpointError("metadata 'model.bidirectional' is '\(other)', not true or false")
        }
      }(), regularization: regularization)
    do { try configuration.validate() } catch let error as ModelError {
      throw CheckpointError("the checkpoint's model is invalid: \(error.message)")
    }
    return configuration
  }

  static func integer(_ key: String, _ text: String) throws -> Int {
    guard let value = Int(text) else { throw CheckpointError("metadata '\(key)' is '\(text)', not an integer") }
    return value
  }

  static func floats(_ file: SafeTensorsFile, _ name: String) throws -> Tensor<Scalar> {
    guard let entry = file.entry(named: name), entry.dtype.isFloatingPoint else {
      throw CheckpointError("tensor '\(name)' is not a floating-point tensor")
    }
    return try file.tensor(named: name, as: Scalar.self)
  }

  static func generator(_ meta: [String: String], _ key: String) throws -> SeededGenerator {
    guard let text = meta[key] else { throw CheckpointError("metadata '\(key)' is missing") }
    let words = text.split(separator: ",").compactMap { UInt64($0, radix: 16) }
    guard words.count == 4, text.split(separator: ",").count == 4 else {
      throw CheckpointError("metadata '\(key)' is '\(text)', not four hexadecimal words")
    }
    return SeededGenerator(state: words)
  }

  static func decimal(_ meta: [String: String], _ key: String) throws -> Double? {
    guard let text = meta[key] else { return nil }
    guard let value = Double(text) else { throw CheckpointError("metadata '\(key)' is '\(text)', not a number") }
    return value
  }

  /// The trainer position the `recur.trainer.*` entries describe.
  static func position(
    _ file: SafeTensorsFile, configuration: RecurrentNetwork<Scalar>.Configuration
  ) throws -> TrainingPosition<Scalar> {
    let meta = file.metadata
    func int(_ key: String) throws -> Int {
      guard let text = meta[key] else { throw CheckpointError("metadata '\(key)' is missing") }
      return try integer(key, text)
    }
    var position = TrainingPosition<Scalar>(
      data: DataPosition(
        epoch: try int("recur.trainer.epoch"), batchIndex: try int("recur.trainer.batch_index"),
        generator: try generator(meta, "recur.trainer.data_generator")),
      seed: 0)
    position.step = try int("recur.trainer.step")
    position.dropoutGenerator = try generator(meta, "recur.trainer.dropout_generator")
    position.elapsed = try decimal(meta, "recur.trainer.elapsed") ?? 0
    let losses = meta["recur.trainer.starting_losses"] ?? ""
    position.startingLosses = try losses.split(separator: ",").map { text in
      guard let value = Double(text) else {
        throw CheckpointError("metadata 'recur.trainer.starting_losses' holds '\(text)', not a number")
      }
      return value
    }
    position.lastValidationLoss = try decimal(meta, "recur.trainer.last_val_loss")
    position.bestValidationLoss = try decimal(meta, "recur.trainer.best_val_loss")
    position.validationsWithoutImprovement = try int("recur.trainer.validations_without_improvement")

    // One carried state per layer and direction (forward, then reverse, per layer).
    let layers = configuration.layers * (configuration.bidirectional ? 2 : 1)
    let hNames = (0..<layers).map { "recur.trainer.state.h_l\($0)" }
    if file.entry(named: hNames[0]) != nil {
      let hasMemory = configuration.cell.cell.hasMemoryCell
      var state = RecurrentState<Scalar>(h: [], c: [])
      var batch: Int?
      for k in 0..<layers {
        for (prefix, needed) in [("h", true), ("c", hasMemory)] where needed {
          let name = "recur.trainer.state.\(prefix)_l\(k)"
          guard file.entry(named: name) != nil else { throw CheckpointError("tensor '\(name)' is missing") }
          let t = try floats(file, name)
          guard t.shape.count == 2, t.shape[1] == configuration.hiddenSize, batch == nil || t.shape[0] == batch else {
            throw CheckpointError("tensor '\(name)' has shape \(t.shape), expected [B, \(configuration.hiddenSize)]")
          }
          batch = t.shape[0]
          if prefix == "h" { state.h.append(t) } else { state.c.append(t) }
        }
      }
      position.carriedState = state
    }
    return position
  }
}

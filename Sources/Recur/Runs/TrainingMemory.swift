import Foundation

/// A model whose training would need more memory than the machine has.
public struct TrainingMemoryError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The estimated bytes a training run holds (``RecurrentNetwork/Configuration/trainingMemory(batch:steps:)``).
  public var neededBytes: Double
  /// The machine's physical memory in bytes.
  public var physicalBytes: Double

  public var description: String {
    String(
      format: "training this model needs about %.1f GB of memory, more than this machine's %.1f GB allows",
      neededBytes / 1e9, physicalBytes / 1e9)
  }
}

extension RecurrentNetwork.Configuration {
  /// The bytes a training run of this network holds, in `Scalar`s: the parameters with their gradient and two
  /// optimizer buffers, every layer's cache (the sizes the sequence driver reserves, read from its own layout),
  /// the dropout masks and input gradients between layers, the embedding, logits, outputs and their
  /// gradients of the head, and the buffers of the regularizers in ``RecurrentNetwork/Configuration/regularization``.
  ///
  /// - Parameters:
  ///   - batch: B, sequences per step.
  ///   - steps: T, steps per sequence.
  /// - Returns: bytes (a Double, so that absurd shapes do not overflow).
  public func trainingMemory(batch: Int, steps: Int) -> Double {
    let rows = Double(batch) * Double(steps)
    // Shapes beyond any machine: say so without forming products that overflow an Int.
    guard rows * Double(hiddenSize) * Double(max(inputSize, outputSize, hiddenSize)) < 1e17 else { return .infinity }
    let H = Double(hiddenSize), V = Double(outputSize), I = Double(inputSize)
    let E = Double(embeddingSize ?? inputSize)
    let cell = self.cell.cell, G = Double(cell.gateCount)
    // Parameters: embedding, the bottom layer (input E), the L − 1 layers above (input H), the head.
    let embedding = embeddingSize == nil ? 0 : I * E
    let layerParameters = G * H * (E + H + 2) + Double(layers - 1) * G * H * (2 * H + 2)
    let parameters = embedding + layerParameters + V * (H + 1)
    // The layer caches, as the driver reserves them; the bottom layer of a token model also keeps its table.
    let layout = LayerCacheLayout(cell: cell, hidden: hiddenSize, steps: steps, batch: batch)
    let weightDrop = regularization.weightDrop > 0
    let caches =
      Double(layers) * Double(layout.totalScalars(Scalar.self, tokenVocabulary: nil, weightDrop: weightDrop))
      + (embeddingSize == nil ? 0 : Double(layout.tokenRows(vocabulary: inputSize)))
    // Weight drop: M ⊙ W_hh and M for every layer (one direction, as the caches above).
    let droppedWeights = weightDrop ? Double(layers) * 2 * Double(layout.recurrentWeight) : 0
    // Output dropout: the dropped top outputs the head reads and their mask; embedding dropout: its row mask,
    // and the dropped table m ⊙ E with its gradient for the bottom layer's projected token table.
    let regularizers =
      droppedWeights + (regularization.outputDropout > 0 ? 2 * rows * H : 0)
      + (regularization.embeddingDropout > 0 ? I + 2 * embedding : 0)
    // Between layers: the dropped-out input, its mask and the input gradient of each layer above the first.
    let between = Double(layers - 1) * 3 * rows * H
    // Head and input: logits, their gradient and the outputs (V each), the top gradient (H), the embedded
    // rows and their mask (E each), the input gradient (E) and the row weights.
    let head = rows * (3 * V + H + 3 * E + 1)
    let scalars = 4 * parameters + caches + between + head + regularizers
    return scalars * Double(MemoryLayout<Scalar>.stride)
  }

  /// Refuses a model whose training (``trainingMemory(batch:steps:)``) would need more than 80% of the
  /// machine's physical memory.
  ///
  /// - Throws: ``TrainingMemoryError`` with the estimate.
  public func checkTrainingMemory(
    batch: Int, steps: Int, physicalMemory: Double = Double(ProcessInfo.processInfo.physicalMemory)
  ) throws {
    let bytes = trainingMemory(batch: batch, steps: steps)
    if bytes > 0.8 * physicalMemory { throw TrainingMemoryError(neededBytes: bytes, physicalBytes: physicalMemory) }
  }
}

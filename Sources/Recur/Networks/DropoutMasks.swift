/// The dropout masks of one training step, keyed so that they do not depend on how a batch is split.
///
/// The mask of layer input `layer` (0: the embedding, l ≥ 1: the input of recurrent layer l) for sequence
/// (stream) `b` of the global batch is drawn from its own ``SeededGenerator``, seeded by (`key`, `layer`,
/// `b`), step t after step t − 1: a process that holds rows `firstStream` … of the global batch draws exactly
/// the masks a single process draws for those rows. The `key` is one draw of the run's dropout generator per
/// step, so it follows from the seed and the step number.
struct DropoutMasks {
  /// One draw of the run's dropout generator for this step.
  var key: UInt64
  /// The global index of this batch's row 0.
  var firstStream: Int

  /// Fills `mask` (T·B × `width`, time-major) with 0 or 1/(1 − p), the keep decision of each element.
  func fill<Scalar: RecurScalar>(
    _ mask: UnsafeMutablePointer<Scalar>, layer: Int, steps: Int, batch: Int, width: Int, probability p: Double
  ) {
    let keep = 1 - p, kept = Scalar(1 / keep)
    for b in 0..<batch {
      var generator = SeededGenerator(seed: streamSeed(layer: layer, stream: firstStream + b))
      for t in 0..<steps {
        let row = mask + (t * batch + b) * width
        for j in 0..<width { row[j] = generator.nextUnit() < keep ? kept : 0 }
      }
    }
  }

  /// The seed of one (layer, stream) generator: SplitMix64-style mixing of the three numbers.
  func streamSeed(layer: Int, stream: Int) -> UInt64 {
    var z = key ^ (UInt64(truncatingIfNeeded: layer) &* 0x9E37_79B9_7F4A_7C15)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z ^= UInt64(truncatingIfNeeded: stream) &* 0xD6E8_FEB8_6659_FD93
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

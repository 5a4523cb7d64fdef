/// The dropout masks of one training step, keyed so that they do not depend on how a batch is split.
///
/// The mask of a place in the network (a ``Slot``) for sequence (stream) `b` of the global batch is drawn from
/// its own ``SeededGenerator``, seeded by (`key`, slot, `b`), step t after step t − 1 (or once, for a mask
/// locked over the steps): a process that holds rows `firstStream` … of the global batch draws exactly the
/// masks a single process draws for those rows. Masks shared by the whole batch (a weight-drop mask of W_hh,
/// an embedding-dropout mask over the vocabulary) are decided by a counter-based hash keyed by the seed of
/// (`key`, slot, 0), the same on every rank (``fillShared(_:slot:count:probability:weight:dropped:)``). The
/// `key` is one draw of the run's dropout generator per step, so it follows from the seed and the step number.
struct DropoutMasks {
  /// One draw of the run's dropout generator for this step.
  var key: UInt64
  /// The global index of this batch's row 0.
  var firstStream: Int

  /// Where in the network a mask applies; each place has its own generators.
  enum Slot {
    /// The embedding output (0) or the input of recurrent layer l ≥ 1 (l).
    case layerInput(Int)
    /// The top layer's outputs, before the head, in a stack of `layers` layers.
    case output(layers: Int)
    /// W_hh of layer l, direction d (0 forward, 1 reverse).
    case recurrentWeight(layer: Int, direction: Int)
    /// The rows of the embedding table.
    case embeddingRows

    /// The number that keys the slot's generators (layer inputs keep 0 … L−1, as before the other slots).
    var index: Int {
      switch self {
      case .layerInput(let l): l
      case .output(let layers): layers
      case .recurrentWeight(let l, let d): (1 << 20) + 2 * l + d
      case .embeddingRows: 1 << 21
      }
    }
  }

  /// Fills `mask` (T·B × `width`, time-major) with 0 or 1/(1 − p), the keep decision of each element: a new
  /// decision at every step, or with `locked` one per sequence and feature repeated at every step.
  func fill<Scalar: RecurScalar>(
    _ mask: UnsafeMutablePointer<Scalar>, slot: Slot, steps: Int, batch: Int, width: Int, probability p: Double,
    locked: Bool = false
  ) {
    let keep = 1 - p, kept = Scalar(1 / keep)
    for b in 0..<batch {
      var generator = SeededGenerator(seed: streamSeed(layer: slot.index, stream: firstStream + b))
      for t in 0..<steps {
        let row = mask + (t * batch + b) * width
        if locked, t > 0 {
          row.update(from: mask + b * width, count: width)
        } else {
          for j in 0..<width { row[j] = generator.nextUnit() < keep ? kept : 0 }
        }
      }
    }
  }

  /// Fills `count` elements of a mask shared by the whole batch (the same on every rank) with 0 or 1/(1 − p),
  /// and, with `weight`, writes M ⊙ W into `dropped` in the same pass.
  ///
  /// Element i's decision is a pure function of (s, i), s = `streamSeed(layer: slot.index, stream: 0)`, so the
  /// elements are decided in vector lanes, in any order: with lo and hi the low and high 32 bits of s and
  /// mix32 the lowbias32 hash (x ⊕= x ≫ 16; x ·= 0x7feb352d; x ⊕= x ≫ 15; x ·= 0x846ca68b; x ⊕= x ≫ 16,
  /// modulo 2³²), element i is kept when mix32(mix32(i ⊕ lo) ⊕ hi) < round((1 − p) · 2³²), the threshold
  /// rounded to the nearest integer, ties up (`recur_shared_mask_f32`). `count` ≤ 2³².
  func fillShared<Scalar: RecurScalar>(
    _ mask: UnsafeMutablePointer<Scalar>, slot: Slot, count: Int, probability p: Double,
    weight: UnsafePointer<Scalar>? = nil, dropped: UnsafeMutablePointer<Scalar>? = nil
  ) {
    precondition((weight == nil) == (dropped == nil), "M ⊙ W needs both the weight and its output")
    Scalar.sharedMask(
      count: count, seed: streamSeed(layer: slot.index, stream: 0), keep: 1 - p, weight: weight, mask: mask,
      dropped: dropped)
  }

  /// The seed of one (slot, stream) generator: SplitMix64-style mixing of the three numbers.
  func streamSeed(layer: Int, stream: Int) -> UInt64 {
    var z = key ^ (UInt64(truncatingIfNeeded: layer) &* 0x9E37_79B9_7F4A_7C15)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z ^= UInt64(truncatingIfNeeded: stream) &* 0xD6E8_FEB8_6659_FD93
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

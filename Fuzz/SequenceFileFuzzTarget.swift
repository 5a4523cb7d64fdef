// The libFuzzer entry point for the JSON Lines / CSV sequence loader (`recur fit`, `recur predict`); built by
// Fuzz/run-sequence-file.sh together with the sources of the Recur module, not part of the Swift package.
import Foundation

/// Reads arbitrary bytes as a sequence file. The first byte chooses the format, the target kind and whether
/// targets are required; the rest is the file. Rejection with a one-line `SequenceFileError` is fine;
/// anything else — a trap, a sanitizer report, a multi-line message, or an accepted file whose sequences
/// break the loader's promises or cannot be batched — is a bug that stops the fuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func sequenceFileFuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let start, count >= 1 else { return 0 }
  let control = start[0]
  let bytes = UnsafeBufferPointer(start: start + 1, count: count - 1)
  // The loader reads files as UTF-8 and refuses anything else before parsing.
  guard let text = String(bytes: bytes, encoding: .utf8) else { return 0 }
  let format: SequenceDataset.Format = control & 1 == 0 ? .jsonLines : .csv
  let kinds: [SequenceDataset.TargetKind?] = [nil, .values, .classes, .binary]
  let kind = kinds[Int(control >> 1) & 3]
  let requireTargets = control & 8 == 0

  let dataset: SequenceDataset
  do {
    dataset = try SequenceDataset.parse(text, format: format, kind: kind, requireTargets: requireTargets)
  } catch {
    precondition(!error.description.contains("\n"), "multi-line error: \(error.description)")
    precondition(error.line.map { $0 >= 1 } ?? true, "error on line \(error.line!)")
    return 0
  }
  check(dataset, kind: kind, requireTargets: requireTargets)
  return 0
}

/// The promises of an accepted file: q ≥ 1 sequences of n ≥ 1 steps, I features at every step, targets
/// (when present) step for step, labels within the output size, and batches that build.
private func check(_ dataset: SequenceDataset, kind: SequenceDataset.TargetKind?, requireTargets: Bool) {
  let q = dataset.inputs.count
  precondition(q >= 1, "accepted a file without sequences")
  precondition(dataset.lines.count == q, "\(dataset.lines.count) line numbers for \(q) sequences")
  precondition(dataset.featureCount >= 1, "I = \(dataset.featureCount)")
  for x in dataset.inputs {
    precondition(!x.isEmpty, "a sequence without steps")
    precondition(x.allSatisfy { $0.count == dataset.featureCount && $0.allSatisfy(\.isFinite) }, "ragged or non-finite x")
  }
  if requireTargets { precondition(dataset.hasTargets, "targets required but absent") }
  guard dataset.hasTargets else { return }
  if let kind { precondition(dataset.kind == kind, "asked for \(kind), got \(dataset.kind)") }
  precondition(dataset.targets.count == q, "\(dataset.targets.count) target sequences for \(q) inputs")
  for (x, y) in zip(dataset.inputs, dataset.targets) {
    precondition(x.count == y.count, "x has \(x.count) steps, y \(y.count)")
    for step in y {
      switch dataset.kind {
      case .values: precondition(step.count == dataset.outputSize && step.allSatisfy(\.isFinite), "bad value target")
      case .classes:
        precondition(step.count == 1 && step[0] >= 0 && step[0] < Float(dataset.outputSize), "label \(step) of \(dataset.outputSize)")
      case .binary: precondition(step == [0] || step == [1], "binary target \(step)")
      }
    }
  }
  // Batch every sequence, the whole set and a ragged pair, as training and prediction do.
  do {
    for i in 0..<min(q, 8) { _ = try dataset.batch([i]) }
    _ = try dataset.batch(Array(0..<min(q, 64)))
    var batches = try SequencePairs<Float>(dataset, batchSize: 3, seed: 7)
    for _ in 0..<min(batches.batchesPerEpoch + 1, 16) { _ = try batches.nextBatch() }
  } catch {
    preconditionFailure("an accepted file does not batch: \(error)")
  }
}

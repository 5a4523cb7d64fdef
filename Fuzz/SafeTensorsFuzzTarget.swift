// The libFuzzer entry point for the safetensors loader; built by Fuzz/run.sh together with the loader's
// sources (Sources/Recur/Interchange/SafeTensors*.swift), not part of the Swift package.
import Foundation

/// Loads arbitrary bytes as a safetensors file. Rejection with a `SafeTensorsError` is fine; anything
/// else — a trap, a sanitizer report, or a loaded file that does not survive use and a round trip — is a
/// bug that stops the fuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let data = start.map { Data(bytes: $0, count: count) } ?? Data()
  checkJSONAgainstFoundation(data)
  let file: SafeTensorsFile
  do {
    file = try SafeTensorsFile(serialized: data)
  } catch {
    // Every rejection must be describable in one line.
    precondition(!error.description.contains("\n"), "multi-line error: \(error.description)")
    return 0
  }
  for name in file.names {
    guard let entry = file.entry(named: name) else { preconditionFailure("listed tensor \(name) is missing") }
    if entry.dtype.isFloatingPoint {
      let values = try? file.floatingPointValues(named: name, as: Double.self)
      precondition(values?.count == entry.elementCount, "float read failed for \(name)")
    } else {
      _ = try? file.integers(named: name)
    }
  }
  let written = file.serialized()
  guard let reread = try? SafeTensorsFile(serialized: written) else {
    preconditionFailure("a loaded file, written again, does not load")
  }
  precondition(reread == file, "round trip changed the file")
  precondition(reread.serialized() == written, "writing is not deterministic")
  return 0
}

/// Differential check of the strict header parser: the input read as JSON text. Whatever the strict parser
/// accepts must be JSON for Foundation too, except numbers beyond `Double`'s range, which Foundation
/// refuses (the converse does not hold: Foundation tolerates duplicate keys and deeper nesting).
private func checkJSONAgainstFoundation(_ data: Data) {
  guard let value = try? SafeTensorsJSONParser.parse([UInt8](data)) else { return }
  let foundation = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
  precondition(foundation != nil || hasHugeNumber(value), "strict parser accepted text that Foundation rejects")
}

private func hasHugeNumber(_ value: SafeTensorsJSON) -> Bool {
  switch value {
  case .object(let members): members.contains { hasHugeNumber($0.value) }
  case .array(let elements): elements.contains(where: hasHugeNumber)
  case .number(let literal, _): !(Double(literal)?.isFinite ?? false)
  case .string, .bool, .null: false
  }
}

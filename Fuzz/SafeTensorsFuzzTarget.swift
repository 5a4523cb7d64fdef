// The libFuzzer entry point for the safetensors loader; built by Fuzz/run.sh together with the loader's
// sources (Sources/Recur/Interchange/SafeTensors*.swift), not part of the Swift package.
import Foundation

/// Loads arbitrary bytes as a safetensors file. Rejection with a `SafeTensorsError` is fine; anything
/// else — a trap, a sanitizer report, or a loaded file that does not survive use and a round trip — is a
/// bug that stops the fuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let data = start.map { Data(bytes: $0, count: count) } ?? Data()
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

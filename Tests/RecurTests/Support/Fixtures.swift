import Foundation
import Testing

@testable import Recur

/// A committed fixture file from Tests/RecurTests/Fixtures, loaded through Recur's own safetensors reader.
struct Fixture {
  let file: SafeTensorsFile

  init(_ name: String) throws {
    let url = try #require(
      Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"),
      "missing fixture \(name).safetensors")
    file = try SafeTensorsFile(contentsOf: url)
  }

  func tensor<S: RecurScalar>(_ name: String, as _: S.Type = Float.self) throws -> Tensor<S> {
    try file.tensor(named: name, as: S.self)
  }

  func integers(_ name: String) throws -> [Int] { try file.integers(named: name) }

  func metadata(_ key: String) throws -> String { try #require(file.metadata[key], "fixture lacks metadata \(key)") }
  func int(_ key: String) throws -> Int { try #require(Int(try metadata(key)), "metadata \(key) is not an integer") }
}

/// [B, T, F] batch-first storage → [T, B, F] time-major, as Recur stores sequences.
func timeMajor<S>(_ values: [S], batch: Int, steps: Int, features: Int) -> [S] {
  var out = values
  for b in 0..<batch {
    for t in 0..<steps {
      for f in 0..<features { out[(t * batch + b) * features + f] = values[(b * steps + t) * features + f] }
    }
  }
  return out
}

import Foundation
import Testing

@testable import Recur

@Suite("safetensors/atomic writes")
struct SafeTensorsAtomicFileTests {
  /// A fresh empty folder for one test.
  static func makeFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-atomic-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  static func contents(of folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  @Test("a write creates or replaces the file, keeps its permissions and leaves nothing else")
  func replaces() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Data("old".utf8), to: target)
    #expect(try Data(contentsOf: target) == Data("old".utf8))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
    let large = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    try AtomicFile.write(large, to: target)
    #expect(try Data(contentsOf: target) == large)
    let permissions = try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int
    #expect(permissions == 0o600)
    #expect(try Self.contents(of: folder) == ["model.safetensors"])
  }

  @Test("a failure at any step leaves the old file whole and no temporary file", arguments: [
    AtomicFileError.Step.createTemporary, .write, .sync, .rename,
  ])
  func failureKeepsOldFile(step: AtomicFileError.Step) throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("checkpoint.safetensors")
    try AtomicFile.write(Data("the old checkpoint".utf8), to: target)
    #expect(throws: AtomicFileError(step: step, path: target.path, code: EIO)) {
      try AtomicFile.write(Data("new".utf8), to: target, failingAt: step)
    }
    #expect(try Data(contentsOf: target) == Data("the old checkpoint".utf8))
    #expect(try Self.contents(of: folder) == ["checkpoint.safetensors"])
  }

  @Test("a failed folder sync after the rename reports the error with the new file in place")
  func folderSyncFailure() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("a.json")
    let error = #expect(throws: AtomicFileError.self) {
      try AtomicFile.write(Data("new".utf8), to: target, failingAt: .syncDirectory)
    }
    #expect(error?.description == "cannot sync the folder of \(target.path): Input/output error")
    #expect(try Data(contentsOf: target) == Data("new".utf8))
    #expect(try Self.contents(of: folder) == ["a.json"])
  }

  @Test("a missing folder is reported with the system's reason")
  func missingFolder() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("absent/model.safetensors")
    let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: target) }
    #expect(error?.step == .createTemporary)
    #expect(error?.code == ENOENT)
    #expect(error?.description == "cannot create a temporary file in \(folder.path)/absent: No such file or directory")
  }

  @Test("a parent that is a regular file is reported and left intact")
  func parentIsAFile() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let parent = folder.appendingPathComponent("notes.txt")
    try Data("keep me".utf8).write(to: parent)
    let error = #expect(throws: AtomicFileError.self) {
      try AtomicFile.write(Data("x".utf8), to: parent.appendingPathComponent("model.safetensors"))
    }
    #expect(error?.code == ENOTDIR)
    #expect(error?.description.hasSuffix(": Not a directory") == true)
    #expect(try Data(contentsOf: parent) == Data("keep me".utf8))
    #expect(try Self.contents(of: folder) == ["notes.txt"])
  }

  @Test("a target that is a folder fails at the rename, removing the temporary file")
  func targetIsAFolder() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("runs")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    try Data("inside".utf8).write(to: target.appendingPathComponent("log"))
    let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: target) }
    #expect(error?.step == .rename)
    #expect(error?.description.hasPrefix("cannot replace \(target.path): ") == true)
    #expect(try Self.contents(of: folder) == ["runs"])
    #expect(try Data(contentsOf: target.appendingPathComponent("log")) == Data("inside".utf8))
  }

  @Test("a safetensors file written to disk reads back; a missing file is reported")
  func fileRoundTrip() throws {
    let folder = try Self.makeFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("m.safetensors")
    var file = SafeTensorsFile(metadata: ["step": "12"])
    try file.add(Tensor<Float>(shape: [2], scalars: [1, 2]), named: "w")
    try file.write(to: target)
    #expect(try SafeTensorsFile(contentsOf: target) == file)
    let missing = folder.appendingPathComponent("none.safetensors")
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: missing) }
    #expect(error == .cannotRead(path: missing.path, reason: "No such file or directory"))
    #expect(throws: SafeTensorsError.cannotRead(path: folder.path, reason: "Is a directory")) {
      try SafeTensorsFile(contentsOf: folder)
    }
  }
}

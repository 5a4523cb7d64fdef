import Foundation
import Recur

extension PredictCommand {
  /// `recur predict --stream`: one step per line of standard input, a state per stream id, one line out per line
  /// in, written and flushed as soon as the line is read.
  func runStream() throws {
    let model = try FittedModelFile(path: checkpoint)
    let network = model.checkpoint.network(weights: weightsOptions.weights)
    if network.configuration.bidirectional {
      throw CLIError("a bidirectional model cannot stream: its reverse direction needs the steps that have not arrived yet")
    }
    if model.layout == .sequence, model.readout != .last {
      throw CLIError("this model reads whole sequences by their \(model.readout.rawValue); only a model read off the last step can stream")
    }
    _ = try oneLine("") { try RecurrentStream(network: network) }
    var streams: [String: RecurrentStream<Float>] = [:]
    var number = 0
    while let line = readLine(strippingNewline: true) {
      number += 1
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      let answer: [String: Any]
      do {
        answer = try Self.answer(line, streams: &streams, network: network, kind: model.kind)
      } catch {
        answer = ["line": number, "error": "\(error)"]
      }
      let bytes = (try? JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
      FileHandle.standardOutput.write(bytes + Data("\n".utf8))
    }
  }

  /// One line of the stream as read.
  struct StreamLine: Decodable {
    /// A step: one number or a list of numbers.
    struct Step: Decodable {
      let values: [Float]
      init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let v = try? container.decode(Float.self) { values = [v] } else { values = try container.decode([Float].self) }
      }
    }
    let id: String?
    let x: Step?
    let reset: Bool?
    let end: Bool?
  }

  /// What is wrong with one line of the stream.
  struct StreamLineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  /// The answer to one line: a step's output, or the confirmation of a reset or an end.
  static func answer(
    _ line: String, streams: inout [String: RecurrentStream<Float>], network: RecurrentNetwork<Float>,
    kind: SequenceDataset.TargetKind
  ) throws -> [String: Any] {
    guard (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any] else {
      throw StreamLineError("not a JSON object such as {\"id\": \"sensor-7\", \"x\": [0.1, 0.4]}")
    }
    let parsed: StreamLine
    do {
      parsed = try JSONDecoder().decode(StreamLine.self, from: Data(line.utf8))
    } catch {
      throw StreamLineError("\"id\" must be a string, \"x\" a number or a list of numbers, \"reset\" and \"end\" true or false")
    }
    guard let id = parsed.id else { throw StreamLineError("missing \"id\" (a string naming the stream)") }
    if parsed.end == true {
      let steps = streams.removeValue(forKey: id)?.steps ?? 0
      return ["id": id, "end": true, "steps": steps]
    }
    if parsed.reset == true {
      streams[id]?.reset()
      return ["id": id, "reset": true]
    }
    guard let x = parsed.x?.values else { throw StreamLineError("missing \"x\" (one step: a number or a list of numbers)") }
    let stream: RecurrentStream<Float>
    if let existing = streams[id] {
      stream = existing
    } else {
      stream = try RecurrentStream(network: network)
      streams[id] = stream
    }
    do {
      try stream.step(x)
    } catch let error as ModelError {
      throw StreamLineError(error.message)
    }
    let g = stream.output
    func encoded(_ v: Float) -> Any { v.isFinite ? Double(v) : NSNull() }
    var answer: [String: Any] = ["id": id, "t": stream.steps]
    switch kind {
    case .values: answer["y"] = g.map(encoded)
    case .classes:
      answer["y"] = g.indices.max { g[$0] < g[$1] }!
      answer["p"] = g.map(encoded)
    case .binary:
      answer["y"] = g[0] > 0.5 ? 1 : -1
      answer["p"] = encoded(g[0])
    }
    return answer
  }
}

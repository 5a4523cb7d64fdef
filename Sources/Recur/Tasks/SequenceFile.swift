import Foundation

/// A line of a sequence file that cannot be read: the message names the line (1-based) and what is wrong.
public struct SequenceFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The 1-based line number, when the problem is on one line.
  public var line: Int?
  /// What is wrong.
  public var message: String

  /// An error on `line` (nil when it concerns the whole file).
  public init(line: Int?, _ message: String) {
    self.line = line
    self.message = message
  }

  public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Sequence pairs read from a file for `recur fit` and `recur predict`: the chapter's training set
/// [(x^{(1)}, y^{(1)}), …, (x^{(q)}, y^{(q)})], each pair of equal length n^{(i)}, lengths free to differ
/// between pairs.
///
/// **JSON Lines**: one object per non-blank line, `{"x": [[…], …], "y": […]}`. Each step of `x` is a list of
/// I numbers (or one number, I = 1). Each step of `y` is a list of V numbers (real targets: squared error),
/// or one integer (a class label: softmax cross-entropy). Labels that are all +1 or −1 are the chapter's
/// sequence classification (y_t = 1 if x_1 … x_t is a positive example, else −1) and train with a sigmoid
/// cross-entropy on 0/1; `--targets binary` reads 0/1 labels that way too. `y` may be left out for
/// prediction.
///
/// **CSV**: a header, then one row per step, rows of a sequence contiguous and in step order:
///
///     sequence,step,x1,x2,y1        (real targets)
///     sequence,step,x1,x2,label     (class labels, or ±1)
///
/// `sequence` is any identifier; `step` an integer increasing within a sequence; every column named `x…`
/// is an input feature, every column named `y…` a real target, a column `label` a class label.
///
/// **One target per sequence** (sequence classification and regression, ``TargetLayout/sequence``): in JSON
/// Lines `"y"` is one number (a class label, or ±1) or one list of V numbers, `{"x": [[…], …], "y": 3}`,
/// `{"x": [[…], …], "y": [0.2, 1.5]}`; in CSV the target columns are filled on the sequence's first row and
/// left empty on the others. A file is read that way when any line has a bare-number `y`, a list whose length
/// differs from the steps of `x`, or (CSV) empty target fields; a list of as many numbers as steps is read as
/// one label per step unless the layout is given.
public struct SequenceDataset: Sendable, Equatable {
  /// Whether the targets go with every step or with whole sequences.
  public enum TargetLayout: String, Sendable, Equatable, CaseIterable {
    /// y_t for every step t (sequence-to-sequence; tagging).
    case step
    /// One y per sequence, read off its outputs by a ``SequenceReadout``.
    case sequence
  }

  /// What the targets are, and so which loss and output function train them.
  public enum TargetKind: String, Sendable, Equatable, CaseIterable {
    /// Real vectors: squared error, identity output.
    case values
    /// Class labels 0 … V−1: softmax cross-entropy.
    case classes
    /// ±1 or 0/1 labels: sigmoid binary cross-entropy on 0/1 (the chapter's sequence classification).
    case binary
  }

  /// The file layouts.
  public enum Format: String, Sendable, CaseIterable {
    /// One JSON object per line (`.jsonl`).
    case jsonLines = "jsonl"
    /// Comma-separated values (`.csv`).
    case csv
  }

  /// x^{(i)}: n^{(i)} vectors of I features each.
  public var inputs: [[[Float]]]
  /// y^{(i)}: n^{(i)} vectors of V values (classes as one value, the label; binary as 0/1), or one such vector
  /// for ``TargetLayout/sequence``; empty when the file has no targets.
  public var targets: [[[Float]]]
  /// How the targets are to be learned.
  public var kind: TargetKind
  /// I.
  public var featureCount: Int
  /// V: the width of value targets, the number of classes, or 1 for binary labels.
  public var outputSize: Int
  /// The 1-based line on which each sequence starts (for messages).
  public var lines: [Int]
  /// Whether ``targets`` hold one vector per step or one per sequence.
  public var layout: TargetLayout = .step

  /// Whether the file had targets.
  public var hasTargets: Bool { !targets.isEmpty }

  /// The loss that trains these targets.
  public var loss: ElementLoss {
    switch kind {
    case .values: .squaredError
    case .classes: .crossEntropy
    case .binary: .binaryCrossEntropy
    }
  }

  /// The output function f_o that matches the loss.
  public var outputActivation: OutputActivation {
    switch kind {
    case .values: .identity
    case .classes: .softmax
    case .binary: .sigmoid
    }
  }

  /// Reads a file's text.
  ///
  /// - Parameters:
  ///   - text: the whole file.
  ///   - format: JSON Lines or CSV.
  ///   - kind: the target kind, or nil to infer it (nested lists → values; ±1 labels → binary; other
  ///     integer labels → classes).
  ///   - requireTargets: whether every sequence must have targets (training) or targets may be absent
  ///     (prediction).
  ///   - layout: one target per step or per sequence, or nil to infer it (see the type's description).
  /// - Throws: ``SequenceFileError`` naming the first bad line and what is wrong with it.
  public static func parse(
    _ text: String, format: Format, kind: TargetKind? = nil, requireTargets: Bool = true, layout: TargetLayout? = nil
  ) throws(SequenceFileError) -> SequenceDataset {
    var raw: [RawSequence]
    switch format {
    case .jsonLines: raw = try parseJSONLines(text)
    case .csv: raw = try parseCSV(text)
    }
    guard !raw.isEmpty else { throw SequenceFileError(line: nil, "the file holds no sequences") }
    let resolvedLayout = try resolveLayout(&raw, layout)

    // Features: the same I everywhere.
    let I = raw[0].x[0].count
    for r in raw {
      for (t, step) in r.x.enumerated() where step.count != I {
        throw SequenceFileError(line: r.line, "x step \(t) has \(step.count) features, but the first sequence has \(I)")
      }
    }
    let withTargets = raw.filter { $0.y != nil }
    if requireTargets, let missing = raw.first(where: { $0.y == nil }) {
      throw SequenceFileError(line: missing.line, "the sequence has no targets (\"y\")")
    }
    if !withTargets.isEmpty, withTargets.count != raw.count {
      throw SequenceFileError(line: raw.first { $0.y == nil }!.line, "some sequences have targets and this one does not")
    }
    for r in withTargets where resolvedLayout == .step && r.y!.count != r.x.count {
      throw SequenceFileError(line: r.line, "x has \(r.x.count) steps but y has \(r.y!.count)")
    }
    guard !withTargets.isEmpty else {
      return SequenceDataset(
        inputs: raw.map(\.x), targets: [], kind: kind ?? .values, featureCount: I, outputSize: 0, lines: raw.map(\.line),
        layout: resolvedLayout)
    }

    // Targets: all labels (one integer per step, not nested) or all vectors.
    let labelled = withTargets[0].yIsLabels
    if let other = withTargets.first(where: { $0.yIsLabels != labelled }) {
      throw SequenceFileError(
        line: other.line, labelled ? "y holds vectors, but the first sequence holds class labels" : "y holds class labels, but the first sequence holds vectors")
    }
    var resolved: TargetKind
    if labelled {
      let all = withTargets.flatMap { $0.y!.map { $0[0] } }
      if let kind, kind == .values {
        resolved = .values
      } else if kind == .binary || (kind == nil && all.contains(-1) && all.allSatisfy { $0 == 1 || $0 == -1 }) {
        resolved = .binary
      } else {
        resolved = .classes
      }
      for r in withTargets {
        for (t, step) in r.y!.enumerated() {
          let v = step[0]
          switch resolved {
          case .binary where !(v == 1 || v == -1 || v == 0):
            throw SequenceFileError(line: r.line, "\(resolvedLayout == .step ? "y step \(t)" : "y") is \(labelText(v)); binary labels are 1 and −1 (or 0)")
          case .classes where !(v >= 0 && v == v.rounded() && v < Float(1 << 24)):
            throw SequenceFileError(line: r.line, "\(resolvedLayout == .step ? "y step \(t)" : "y") is \(labelText(v)); class labels are integers 0, 1, 2, …")
          default: break
          }
        }
      }
    } else {
      if let kind, kind != .values {
        throw SequenceFileError(
          line: withTargets[0].line, "--targets \(kind.rawValue) needs one label per \(resolvedLayout.rawValue), not vectors")
      }
      resolved = .values
    }

    var outputSize: Int
    var targets = withTargets.map { $0.y! }
    switch resolved {
    case .values:
      outputSize = targets[0][0].count
      for r in withTargets {
        for (t, step) in r.y!.enumerated() where step.count != outputSize {
          throw SequenceFileError(
            line: r.line, "\(resolvedLayout == .step ? "y step \(t)" : "y") has \(step.count) values, but the first sequence has \(outputSize)")
        }
      }
    case .classes:
      outputSize = Int(targets.flatMap { $0.map { $0[0] } }.max()!) + 1
      if outputSize < 2 { outputSize = 2 }
    case .binary:
      outputSize = 1
      targets = targets.map { $0.map { [$0[0] > 0 ? 1 : 0] } }
    }
    return SequenceDataset(
      inputs: raw.map(\.x), targets: targets, kind: resolved, featureCount: I, outputSize: outputSize,
      lines: raw.map(\.line), layout: resolvedLayout)
  }

  /// Decides the file's layout and rewrites one-per-sequence targets as one "step" of y: a bare number as a
  /// label, a list of numbers as a vector.
  static func resolveLayout(_ raw: inout [RawSequence], _ given: TargetLayout?) throws(SequenceFileError) -> TargetLayout {
    let evidence = raw.first { r in
      r.sequenceTarget != nil || (r.yIsLabels && r.y != nil && r.y!.count != r.x.count)
    }
    let layout = given ?? (evidence == nil ? .step : .sequence)
    switch layout {
    case .step:
      if let r = evidence {
        throw SequenceFileError(
          line: r.line,
          r.sequenceTarget != nil
            ? "y is one target for the whole sequence, but the targets were said to be one per step"
            : "x has \(r.x.count) steps but y has \(r.y!.count)")
      }
    case .sequence:
      for i in raw.indices {
        if let target = raw[i].sequenceTarget {
          raw[i].y = [target.values]
          raw[i].yIsLabels = target.isLabel
        } else if let y = raw[i].y {
          if let first = y.first, y.allSatisfy({ $0 == first }), raw[i].isCSV {
            // CSV rows that repeat the sequence's target on every step.
            raw[i].y = [first]
            raw[i].yIsLabels = raw[i].csvLabel
          } else if raw[i].yIsLabels, !raw[i].isCSV {
            // A flat list of numbers: one vector for the sequence.
            raw[i].y = [y.map { $0[0] }]
            raw[i].yIsLabels = false
          } else if !raw[i].isCSV, y.count != raw[i].x.count {
            throw SequenceFileError(line: raw[i].line, "x has \(raw[i].x.count) steps but y has \(y.count)")
          } else {
            throw SequenceFileError(
              line: raw[i].line,
              raw[i].isCSV ? "the target changes within the sequence, but there is one target per sequence"
                : "y holds one vector per step, but other lines have one target per sequence")
          }
        }
      }
    }
    return layout
  }

  /// Reads a file, choosing the format from its extension (`.csv` is CSV, anything else JSON Lines).
  public static func load(
    contentsOf url: URL, kind: TargetKind? = nil, requireTargets: Bool = true, layout: TargetLayout? = nil
  ) throws -> SequenceDataset {
    let data: Data
    do {
      data = try AtomicFile.read(from: url)
    } catch {
      // The system's reason: no such file, is a directory, permission denied.
      throw SequenceFileError(line: nil, error.description)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      let valid = String(decoding: data, as: UTF8.self).prefix { $0 != "\u{FFFD}" }.utf8.count
      throw SequenceFileError(line: nil, "\(url.path) is not UTF-8 text (an invalid byte near offset \(valid))")
    }
    return try parse(
      text, format: url.pathExtension.lowercased() == "csv" ? .csv : .jsonLines, kind: kind,
      requireTargets: requireTargets, layout: layout)
  }

  /// The batch of the sequences at `indices` (padded, masked): vector inputs, and value or class targets
  /// (for ``TargetLayout/sequence`` no per-step targets: see ``sequenceTargets(_:as:)``).
  public func batch<Scalar: RecurScalar>(_ indices: [Int], as _: Scalar.Type = Float.self) throws
    -> SequenceBatch<Scalar>
  {
    let x = indices.map { inputs[$0].map { $0.map { Scalar($0) } } }
    if layout == .sequence || !hasTargets {
      let B = indices.count, T = x.map(\.count).max()!, I = featureCount
      var values = [Scalar](repeating: 0, count: T * B * I)
      for (b, i) in indices.enumerated() {
        for t in 0..<inputs[i].count {
          for f in 0..<I { values[(t * B + b) * I + f] = Scalar(inputs[i][t][f]) }
        }
      }
      return try SequenceBatch(
        steps: T, batchSize: B, lengths: x.map(\.count), inputs: .vectors(values, features: I),
        targets: .classes(Array(repeating: -1, count: T * B)))
    }
    switch kind {
    case .values, .binary:
      return try SequenceBatch(inputs: x, targets: indices.map { targets[$0].map { $0.map { Scalar($0) } } })
    case .classes:
      let B = indices.count, T = x.map(\.count).max()!, I = featureCount
      var values = [Scalar](repeating: 0, count: T * B * I)
      var labels = [Int32](repeating: -1, count: T * B)
      for (b, i) in indices.enumerated() {
        for t in 0..<inputs[i].count {
          for f in 0..<I { values[(t * B + b) * I + f] = Scalar(inputs[i][t][f]) }
          labels[t * B + b] = Int32(targets[i][t][0])
        }
      }
      return try SequenceBatch(
        steps: T, batchSize: B, lengths: x.map(\.count), inputs: .vectors(values, features: I),
        targets: .classes(labels))
    }
  }

  /// The one-per-sequence targets of the sequences at `indices` (``TargetLayout/sequence``): class labels, or
  /// B × V values (binary labels as 0/1).
  public func sequenceTargets<Scalar: RecurScalar>(_ indices: [Int], as _: Scalar.Type = Float.self) -> FinalStepTargets<Scalar> {
    switch kind {
    case .classes: .classes(indices.map { Int(targets[$0][0][0]) })
    case .values, .binary: .values(indices.flatMap { targets[$0][0].map { Scalar($0) } }, width: outputSize)
    }
  }

  /// The network configuration that fits this data.
  public func networkConfiguration(
    cell: CellKind, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false
  ) -> RecurrentNetwork<Float>.Configuration {
    .init(
      cell: cell, inputSize: featureCount, hiddenSize: hiddenSize, layers: layers, outputSize: outputSize,
      outputActivation: outputActivation, bidirectional: bidirectional)
  }

  // MARK: Reading

  /// One sequence as read, before the file-wide checks.
  struct RawSequence {
    var line: Int
    var x: [[Float]]
    var y: [[Float]]?
    /// Whether y's steps were bare numbers (labels) rather than lists.
    var yIsLabels: Bool
    /// A target that can only be one for the whole sequence (a bare-number `y`; CSV targets on the first row
    /// only), and whether it is a label.
    var sequenceTarget: (values: [Float], isLabel: Bool)? = nil
    /// Read from CSV (and whether its target column is `label`).
    var isCSV = false
    var csvLabel = false
    /// CSV rows after the first whose target fields were empty.
    var blankRows = 0
  }

  /// A step: one number, or a list of numbers.
  private enum Step: Decodable {
    case number(Float)
    case vector([Float])

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let v = try? container.decode(Float.self) {
        self = .number(v)
      } else {
        self = .vector(try container.decode([Float].self))
      }
    }
  }

  /// A line's `"y"`: one number (a label for the whole sequence), or a list of steps.
  private enum Target: Decodable {
    case number(Float)
    case steps([Step])

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let v = try? container.decode(Float.self) {
        self = .number(v)
      } else {
        self = .steps(try container.decode([Step].self))
      }
    }
  }

  private struct Line: Decodable {
    var x: [Step]
    var y: Target?
  }

  static func parseJSONLines(_ text: String) throws(SequenceFileError) -> [RawSequence] {
    var result: [RawSequence] = []
    let decoder = JSONDecoder()
    for (index, lineText) in lines(of: text).enumerated() {
      let line = index + 1
      let trimmed = lineText.trimmingCharacters(in: .whitespacesAndNewlines)
      if trimmed.isEmpty { continue }
      guard (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) is [String: Any] else {
        throw SequenceFileError(line: line, "not a JSON object of the form {\"x\": [...], \"y\": [...]}")
      }
      let parsed: Line
      do {
        parsed = try decoder.decode(Line.self, from: Data(trimmed.utf8))
      } catch let DecodingError.keyNotFound(key, _) {
        throw SequenceFileError(line: line, "missing \"\(key.stringValue)\"")
      } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
        throw SequenceFileError(line: line, "\(path(context.codingPath)) is not a number (a step is a number or a list of numbers)")
      } catch let DecodingError.valueNotFound(_, context) {
        throw SequenceFileError(line: line, "\(path(context.codingPath)) is null, not a number")
      } catch {
        throw SequenceFileError(line: line, "cannot read the line: \(error)")
      }
      guard !parsed.x.isEmpty else { throw SequenceFileError(line: line, "x has no steps") }
      let x = parsed.x.map { step -> [Float] in
        switch step {
        case .number(let v): [v]
        case .vector(let v): v
        }
      }
      if let empty = x.firstIndex(where: { $0.isEmpty }) {
        throw SequenceFileError(line: line, "x step \(empty) has no features")
      }
      var y: [[Float]]? = nil
      var labels = false
      var sequenceTarget: (values: [Float], isLabel: Bool)? = nil
      if case .number(let v) = parsed.y {
        guard v.isFinite else { throw SequenceFileError(line: line, "y holds a number too large for Float") }
        sequenceTarget = ([v], true)
        y = [[v]]
      } else if case .steps(let steps) = parsed.y {
        let numbers = steps.map { if case .number = $0 { true } else { false } }
        if numbers.contains(true), numbers.contains(false) {
          throw SequenceFileError(line: line, "y mixes class labels and vectors")
        }
        labels = numbers.first ?? false
        y = steps.map { step -> [Float] in
          switch step {
          case .number(let v): [v]
          case .vector(let v): v
          }
        }
        if let empty = y!.firstIndex(where: { $0.isEmpty }) {
          throw SequenceFileError(line: line, "y step \(empty) has no values")
        }
      }
      for (name, steps) in [("x", x), ("y", y ?? [])] {
        for (t, step) in steps.enumerated() where step.contains(where: { !$0.isFinite }) {
          throw SequenceFileError(line: line, "\(name) step \(t) holds a number too large for Float")
        }
      }
      result.append(RawSequence(line: line, x: x, y: y, yIsLabels: labels, sequenceTarget: sequenceTarget))
    }
    return result
  }

  static func parseCSV(_ text: String) throws(SequenceFileError) -> [RawSequence] {
    let rows = lines(of: text).enumerated().compactMap {
      (i, row) -> (Int, [String])? in
      let trimmed = row.trimmingCharacters(in: .whitespacesAndNewlines)
      return trimmed.isEmpty ? nil : (i + 1, trimmed.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      })
    }
    guard let (headerLine, header) = rows.first else { throw SequenceFileError(line: nil, "the file is empty") }
    guard header.count >= 3, header[0] == "sequence", header[1] == "step" else {
      throw SequenceFileError(line: headerLine, "the header must start with sequence,step then x… columns")
    }
    let xColumns = header.indices.filter { header[$0].hasPrefix("x") }
    let yColumns = header.indices.filter { header[$0].hasPrefix("y") }
    let labelColumn = header.firstIndex(of: "label")
    guard !xColumns.isEmpty else { throw SequenceFileError(line: headerLine, "the header has no x… column") }
    if !yColumns.isEmpty, labelColumn != nil {
      throw SequenceFileError(line: headerLine, "the header has both y… columns and a label column; use one")
    }
    if let unknown = header.indices.dropFirst(2).first(where: { !xColumns.contains($0) && !yColumns.contains($0) && $0 != labelColumn }) {
      throw SequenceFileError(line: headerLine, "column \(quoted(header[unknown])) is not sequence, step, x…, y… or label")
    }
    var result: [RawSequence] = []
    var seen: Set<String> = []
    var currentID: String? = nil
    var lastStep = 0
    for (line, fields) in rows.dropFirst() {
      guard fields.count == header.count else {
        throw SequenceFileError(line: line, "\(fields.count) fields, but the header has \(header.count)")
      }
      guard let step = Int(fields[1]) else { throw SequenceFileError(line: line, "step \(quoted(fields[1])) is not an integer") }
      func number(_ column: Int) throws(SequenceFileError) -> Float {
        guard let v = Float(fields[column]), v.isFinite else {
          throw SequenceFileError(line: line, "\(escaped(header[column])) \(quoted(fields[column])) is not a number")
        }
        return v
      }
      var x: [Float] = []
      for c in xColumns { x.append(try number(c)) }
      var y: [Float]? = nil
      let targetColumns = labelColumn.map { [$0] } ?? yColumns
      let blankTargets = !targetColumns.isEmpty && targetColumns.allSatisfy { fields[$0].isEmpty }
      let newSequence = fields[0] != currentID
      if blankTargets, !newSequence {
        // One target per sequence: given on the first row only.
        if let r = result.last, r.y?.count != 1 || r.blankRows != r.x.count - 1 {
          throw SequenceFileError(line: line, "the target is empty here but given on later rows of the sequence; fill it on every row or on the first only")
        }
        result[result.count - 1].blankRows += 1
      } else if let labelColumn {
        y = [try number(labelColumn)]
      } else if !yColumns.isEmpty {
        var values: [Float] = []
        for c in yColumns { values.append(try number(c)) }
        y = values
      }
      if fields[0] != currentID {
        guard !seen.contains(fields[0]) else {
          throw SequenceFileError(line: line, "sequence \(quoted(fields[0])) continues after other rows; keep its rows together")
        }
        seen.insert(fields[0])
        currentID = fields[0]
        result.append(
          RawSequence(line: line, x: [], y: y == nil ? nil : [], yIsLabels: labelColumn != nil, isCSV: true, csvLabel: labelColumn != nil))
      } else if step <= lastStep {
        throw SequenceFileError(line: line, "step \(step) does not follow step \(lastStep) of sequence \(quoted(fields[0]))")
      }
      lastStep = step
      if y != nil, result[result.count - 1].blankRows > 0 {
        throw SequenceFileError(line: line, "the target is given here but was empty on earlier rows of the sequence; fill it on every row or on the first only")
      }
      result[result.count - 1].x.append(x)
      if let y { result[result.count - 1].y!.append(y) }
    }
    for i in result.indices where result[i].blankRows > 0 {
      result[i].sequenceTarget = (result[i].y![0], labelColumn != nil)
    }
    return result
  }

  /// The lines of a file: Unix (`\n`) and Windows (`\r\n`, a single `Character` in Swift) endings alike.
  static func lines(of text: String) -> [Substring] {
    text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
  }

  /// A field of the file for a one-line message: control characters (a stray carriage return, a tab) escaped.
  static func escaped(_ field: String) -> String {
    field.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
  }

  /// A field of the file in quotes for a one-line message, escaped.
  static func quoted(_ field: String) -> String { "'" + escaped(field) + "'" }

  private static func path(_ codingPath: [any CodingKey]) -> String {
    var s = ""
    for key in codingPath {
      if let i = key.intValue { s += "[\(i)]" } else { s += s.isEmpty ? key.stringValue : ".\(key.stringValue)" }
    }
    return s.isEmpty ? "the line" : s
  }

  private static func labelText(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)" }
}

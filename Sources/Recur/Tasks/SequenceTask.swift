import Foundation

/// A generated task's batch is a ``TrainingBatch``: the name it had before tasks became training data.
@available(*, deprecated, renamed: "TrainingBatch")
public typealias TaskBatch<Scalar: RecurScalar> = TrainingBatch<Scalar>

/// One figure a task reports, such as a test accuracy or a mean squared error.
public struct TaskMetric: Sendable, Equatable, CustomStringConvertible {
  /// The figure's name ("test MSE", "sequence accuracy", …).
  public var name: String
  /// Its value.
  public var value: Double
  /// Whether larger is better (accuracy) or smaller is (error).
  public var higherIsBetter: Bool

  /// A metric named `name` with the given value.
  public init(_ name: String, _ value: Double, higherIsBetter: Bool) {
    self.name = name
    self.value = value
    self.higherIsBetter = higherIsBetter
  }

  public var description: String { "\(name) \(Self.format(value))" }

  static func format(_ v: Double) -> String {
    abs(v) >= 0.001 || v == 0 ? String(format: "%.4f", v) : String(format: "%.3e", v)
  }
}

/// How a network did on a task's test set.
public struct TaskEvaluation: Sendable, Equatable, CustomStringConvertible {
  /// The task's standard figure (the first one reported).
  public var primary: TaskMetric
  /// Further figures.
  public var others: [TaskMetric]
  /// What a trivial predictor scores on the primary figure (the mean for regression, chance for
  /// classification), when the task has one.
  public var baseline: Double?
  /// Whether the primary figure reaches the task's usual "solved" threshold.
  public var solved: Bool

  /// An evaluation; see each property.
  public init(primary: TaskMetric, others: [TaskMetric] = [], baseline: Double? = nil, solved: Bool) {
    self.primary = primary
    self.others = others
    self.baseline = baseline
    self.solved = solved
  }

  public var description: String {
    var parts = [primary.description]
    if let baseline { parts.append("(baseline \(TaskMetric.format(baseline)))") }
    parts += others.map(\.description)
    parts.append(solved ? "— solved" : "— not solved")
    return parts.joined(separator: ", ")
  }
}

/// A generated sequence task: a seeded source of training batches, the network shape it needs, and its
/// standard figure on a fixed test set.
public protocol SequenceTask: Sendable {
  /// The name used on the command line (`parity`, `adding`, …).
  var name: String { get }
  /// One line on what the task asks.
  var summary: String { get }
  /// I, the features of each input x_t.
  var inputSize: Int { get }
  /// The outputs of the network's head.
  var outputSize: Int { get }
  /// f_o for the head.
  var outputActivation: OutputActivation { get }
  /// The per-element loss.
  var loss: ElementLoss { get }

  /// B freshly generated training sequences drawn from `generator`.
  func makeBatch<Scalar: RecurScalar>(size: Int, generator: inout SeededGenerator) throws -> TrainingBatch<Scalar>
  /// The task's standard figures for `network` on test data drawn from `generator`.
  func evaluate<Scalar: RecurScalar>(_ network: RecurrentNetwork<Scalar>, generator: inout SeededGenerator) throws
    -> TaskEvaluation
}

extension SequenceTask {
  /// The network configuration for this task with the given cell and state size.
  public func networkConfiguration<Scalar: RecurScalar>(cell: CellKind, hiddenSize: Int, layers: Int = 1)
    -> RecurrentNetwork<Scalar>.Configuration
  {
    .init(
      cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, outputSize: outputSize,
      outputActivation: outputActivation)
  }
}

/// A problem with a task's name or parameters.
public struct TaskError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong, in one line.
  public var message: String
  /// An error with a one-line message.
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The built-in tasks by name.
public enum BuiltInTasks {
  /// The names accepted by ``make(_:length:)``.
  public static let names = ["parity", "lti", "adding", "copy", "reber"]

  /// The task called `name` with sequence length T = `length` (each task's default when nil).
  public static func make(_ name: String, length: Int? = nil) throws -> any SequenceTask {
    switch name {
    case "parity": return try ParityTask(maxLength: length ?? 20)
    case "lti": return try LTIIdentificationTask(length: length ?? 40)
    case "adding": return try AddingTask(length: length ?? 100)
    case "copy": return try CopyMemoryTask(delay: length ?? 50)
    case "reber": return EmbeddedReberTask()
    default:
      throw TaskError("unknown task '\(name)'; the tasks are \(names.joined(separator: ", "))")
    }
  }
}

extension TrainingBatch {
  /// The targets at each sequence's own last step: ``finalTargets`` when the task has them, else the last
  /// per-step target (a class, or a vector of values). Used to ask the chapter's question of any task: how
  /// much of the last step's loss gradient reaches the first steps?
  /// - Throws: ``TaskError`` when a class target at some last step is "none".
  public func lastStepTargets() throws -> FinalStepTargets<Scalar> {
    if let finalTargets { return finalTargets }
    let B = batch.batchSize
    switch batch.targets {
    case .classes(let ids):
      let last = (0..<B).map { Int(ids[(batch.lengths[$0] - 1) * B + $0]) }
      if last.contains(where: { $0 < 0 }) { throw TaskError("a sequence has no target at its last step") }
      return .classes(last)
    case .values(let y, let width):
      var last: [Scalar] = []
      for b in 0..<B {
        let row = (batch.lengths[b] - 1) * B + b
        last += y[(row * width)..<(row * width + width)]
      }
      return .values(last, width: width)
    }
  }
}

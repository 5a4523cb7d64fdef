import Foundation
import Testing

@testable import Recur

/// Expects `actual` and `expected` to agree element by element within `tolerance` (relative to the
/// larger magnitude, absolute near zero).
private func expectVectorsClose(
  _ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.count == expected.count, "lengths differ", sourceLocation: sourceLocation)
  for (a, e) in zip(actual, expected) {
    let scale = max(1, abs(a), abs(e))
    #expect(abs(a - e) <= tolerance * scale, "\(actual) vs \(expected)", sourceLocation: sourceLocation)
  }
}

@Suite("LTI systems")
struct LTISystemTests {
  @Test("scalar system: the impulse response is C·A^(t-1)·B")
  func scalarImpulse() throws {
    let (a, b, c) = (0.8, 2.0, -1.5)
    let system = try LTISystem(A: [[a]], B: [[b]], C: [[c]])
    let response = try system.impulseResponse(steps: 20)
    #expect(response.count == 20)
    for (t, y) in zip(1..., response) {
      expectVectorsClose(y, [c * pow(a, Double(t - 1)) * b])
    }
    for (t, markov) in zip(1..., system.markovParameters(count: 20)) {
      #expect(markov.shape == [1, 1])
      expectVectorsClose(markov.scalars, [c * pow(a, Double(t - 1)) * b])
    }
  }

  @Test("2-D rotation: from s_0 = (1, 0) with zero input the output is (cos tθ, sin tθ)")
  func rotation() throws {
    let theta = 0.3
    let system = try LTISystem(
      A: [[cos(theta), -sin(theta)], [sin(theta), cos(theta)]],
      B: [[1], [0]],
      C: [[1, 0], [0, 1]],
      initialState: [1, 0])
    let outputs = system.transduce(Array(repeating: [0.0], count: 50))
    for (t, y) in zip(1..., outputs) {
      expectVectorsClose(y, [cos(Double(t) * theta), sin(Double(t) * theta)], tolerance: 1e-12)
    }
    // An impulse on the only input channel starts the same rotation at t = 1 from the zero state.
    let impulse = try system.impulseResponse(steps: 10)
    for (t, y) in zip(1..., impulse) {
      expectVectorsClose(y, [cos(Double(t - 1) * theta), sin(Double(t - 1) * theta)])
    }
  }

  @Test("matches the numpy fixture: outputs from a non-zero state and Markov parameters")
  func numpyFixture() throws {
    struct Fixture: Decodable {
      let comment: String
      let A: [[Double]]
      let B: [[Double]]
      let C: [[Double]]
      let initialState: [Double]
      let inputs: [[Double]]
      let outputs: [[Double]]
      let markovParameters: [[[Double]]]
    }
    let url = try #require(Bundle.module.url(forResource: "lti_system", withExtension: "json", subdirectory: "Fixtures"))
    let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    #expect(fixture.comment.contains("do not edit"))
    let system = try LTISystem(A: fixture.A, B: fixture.B, C: fixture.C, initialState: fixture.initialState)
    #expect((system.stateSize, system.inputSize, system.outputSize) == (3, 2, 2))
    let outputs = try system.response(to: fixture.inputs)
    #expect(outputs.count == fixture.outputs.count)
    for (y, expected) in zip(outputs, fixture.outputs) {
      expectVectorsClose(y, expected, tolerance: 1e-10)
    }
    let markov = system.markovParameters(count: fixture.markovParameters.count)
    for (p, expected) in zip(markov, fixture.markovParameters) {
      #expect(p.shape == [2, 2])
      expectVectorsClose(p.scalars, expected.flatMap { $0 }, tolerance: 1e-10)
    }
    // Column j of the Markov parameters is the impulse response on channel j.
    for channel in 0..<2 {
      let impulse = try system.impulseResponse(steps: markov.count, channel: channel)
      for (y, p) in zip(impulse, markov) {
        expectVectorsClose(y, [p[0, channel], p[1, channel]], tolerance: 1e-12)
      }
    }
  }

  @Test("step carries the state exactly as transduce does; the tensor initializer builds the same system")
  func streamingAndTensors() throws {
    let rows = try LTISystem(A: [[0.5, 0.1], [0, 0.9]], B: [[1], [2]], C: [[1, -1]])
    let tensors = try LTISystem(
      stateMatrix: Tensor(shape: [2, 2], scalars: [0.5, 0.1, 0, 0.9]),
      inputMatrix: Tensor(shape: [2, 1], scalars: [1, 2]),
      outputMatrix: Tensor(shape: [1, 2], scalars: [1, -1]))
    #expect(rows == tensors)
    #expect(rows.initialState == [0, 0])
    let inputs: [[Double]] = [[1], [0], [-2], [0.5]]
    var state = rows.initialState
    var outputs: [[Double]] = []
    for x in inputs {
      let next = rows.step(state, x)
      state = next.state
      outputs.append(next.output)
    }
    #expect(outputs == rows.transduce(inputs))
    #expect(state == rows.finalState(after: inputs))
    // s_1 = B·1 = (1, 2), y_1 = 1 - 2; s_2 = A s_1 = (0.7, 1.8), y_2 = 0.7 - 1.8.
    expectVectorsClose(outputs[0], [-1])
    expectVectorsClose(outputs[1], [0.7 - 1.8])
  }

  @Test("each shape error is thrown and its message names the matrix and sizes")
  func shapeErrors() {
    let cases: [(LTISystemError, String, () throws(LTISystemError) -> LTISystem)] = [
      (.stateMatrixNotSquare(rows: 2, columns: 3), "state matrix A must be square (m × m), got 2 × 3",
       { () throws(LTISystemError) in try LTISystem(A: [[1, 0, 0], [0, 1, 0]], B: [[1], [1]], C: [[1, 1]]) }),
      (.inputMatrixRowMismatch(rows: 3, stateSize: 2), "input matrix B has 3 rows, expected m = 2",
       { () throws(LTISystemError) in try LTISystem(A: [[1, 0], [0, 1]], B: [[1], [1], [1]], C: [[1, 1]]) }),
      (.outputMatrixColumnMismatch(columns: 1, stateSize: 2), "output matrix C has 1 columns, expected m = 2",
       { () throws(LTISystemError) in try LTISystem(A: [[1, 0], [0, 1]], B: [[1], [1]], C: [[1]]) }),
      (.initialStateLengthMismatch(length: 3, stateSize: 2), "initial state has 3 components, expected m = 2",
       { () throws(LTISystemError) in try LTISystem(A: [[1, 0], [0, 1]], B: [[1], [1]], C: [[1, 1]], initialState: [0, 0, 0]) }),
      (.raggedRows(matrix: "B", row: 1, length: 2, expected: 1), "matrix B: row 1 has 2 entries, expected 1",
       { () throws(LTISystemError) in try LTISystem(A: [[1, 0], [0, 1]], B: [[1], [1, 2]], C: [[1, 1]]) }),
      (.emptyMatrix(matrix: "C", shape: [0, 0]), "matrix C is empty",
       { () throws(LTISystemError) in try LTISystem(A: [[1]], B: [[1]], C: []) }),
      (.emptyMatrix(matrix: "B", shape: [1, 0]), "matrix B is empty",
       { () throws(LTISystemError) in try LTISystem(A: [[1]], B: [[]], C: [[1]]) }),
      (.notAMatrix(matrix: "A", shape: [4]), "matrix A must be two-dimensional, got shape [4]",
       { () throws(LTISystemError) in
         try LTISystem(
           stateMatrix: Tensor(shape: [4]), inputMatrix: Tensor(shape: [2, 1]), outputMatrix: Tensor(shape: [1, 2]))
       }),
    ]
    for (expected, message, build) in cases {
      #expect(throws: expected) { try build() }
      #expect(expected.description.contains(message), "\(expected.description)")
    }
  }

  @Test("checked use: a wrong input length or impulse channel is reported with its step or channel")
  func runTimeErrors() throws {
    let system = try LTISystem(A: [[1, 0], [0, 1]], B: [[1, 0], [0, 1]], C: [[1, 1]])
    let badInput = LTISystemError.inputLengthMismatch(step: 3, length: 1, inputSize: 2)
    #expect(throws: badInput) { try system.response(to: [[1, 0], [0, 1], [5]]) }
    #expect(badInput.description == "input x_3 has 1 components, expected ℓ = 2 (the columns of B)")
    #expect(throws: LTISystemError.initialStateLengthMismatch(length: 1, stateSize: 2)) {
      try system.response(to: [[1, 0]], from: [0])
    }
    let badChannel = LTISystemError.inputChannelOutOfRange(channel: 2, inputSize: 2)
    #expect(throws: badChannel) { try system.impulseResponse(steps: 3, channel: 2) }
    #expect(badChannel.description.contains("channel 2 is out of range 0..<2"))
    #expect(try system.response(to: [[1, 0], [0, 1]]) == [[1], [2]])
    #expect(try system.response(to: [[1, 0]], from: [3, 4]) == [[8]])
  }
}

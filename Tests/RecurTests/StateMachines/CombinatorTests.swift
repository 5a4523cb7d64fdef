import Testing

@testable import Recur

@Suite("State machine combinators")
struct CombinatorTests {
  /// y_t = x_1 + … + x_t.
  let accumulator = AnyStateMachine<Int, Int, Int>(initialState: 0, transition: { $0 + $1 }, output: { $0 })

  @Test("a closure-built machine runs f_s and f_o as given")
  func closureMachine() {
    #expect(accumulator.transduce([1, 2, 3, 4]) == [1, 3, 6, 10])
    #expect(accumulator.finalState(after: [5, -2]) == 3)
    let doubled = accumulator.mapOutput { 2 * $0 }
    #expect(doubled.transduce([1, 2, 3]) == [2, 6, 12])
  }

  @Test("type erasure forwards to the wrapped machine")
  func erasure() {
    let parity = FiniteStateMachine.parityOfZeros
    let erased = AnyStateMachine(parity)
    let input = ["0", "1", "1", "0", "0"]
    #expect(erased.transduce(input) == parity.transduce(input))
    #expect(erased.initialState == "S1")
  }

  @Test("cascade: a running sum of a running sum of ones is t(t+1)/2")
  func cascadeOfSums() {
    let twice = accumulator.cascade(accumulator)
    let outputs = twice.transduce(Array(repeating: 1, count: 10))
    #expect(outputs == (1...10).map { $0 * ($0 + 1) / 2 })
    let state = twice.finalState(after: [1, 1, 1])
    #expect(state.0 == 3 && state.1 == 6)
  }

  @Test("cascade: the second machine reads the first machine's output at the same step")
  func cascadeParity() {
    let countEven = FiniteStateMachine.parityOfZeros.cascade(
      AnyStateMachine<Int, String, Int>(initialState: 0, transition: { $0 + ($1 == "1" ? 1 : 0) }, output: { $0 }))
    // Outputs of the parity machine on 0,0,1,0: 0,1,1,0 → running count 0,1,2,2.
    #expect(countEven.transduce(["0", "0", "1", "0"]) == [0, 1, 2, 2])
  }

  @Test("cascade: two LTI systems in series equal the single system with block matrices")
  func cascadeLTI() throws {
    let first = try LTISystem(A: [[0.5]], B: [[1]], C: [[2]])
    let second = try LTISystem(A: [[0.25]], B: [[1]], C: [[3]])
    // s²_t = 0.25 s²_{t-1} + 2 s¹_t = 0.25 s²_{t-1} + 2 (0.5 s¹_{t-1} + x_t).
    let combined = try LTISystem(A: [[0.5, 0], [1, 0.25]], B: [[1], [2]], C: [[0, 3]])
    let inputs: [[Double]] = [[1], [0], [-1], [2], [0.5]]
    let series = first.cascade(second).transduce(inputs)
    let single = combined.transduce(inputs)
    for (a, b) in zip(series, single) {
      #expect(abs(a[0] - b[0]) <= 1e-12)
    }
  }

  @Test("parallel: both machines read the same input; the output is the pair")
  func parallel() {
    let both = FiniteStateMachine.parityOfZeros.parallel(
      AnyStateMachine<Int, String, Int>(initialState: 0, transition: { $0 + ($1 == "0" ? 1 : 0) }, output: { $0 }))
    let outputs = both.transduce(["0", "1", "0", "0"])
    #expect(outputs.map(\.0) == ["0", "0", "1", "0"])
    #expect(outputs.map(\.1) == [1, 1, 2, 3])
    let state = both.finalState(after: ["0", "0"])
    #expect(state.0 == "S1" && state.1 == 2)
  }
}

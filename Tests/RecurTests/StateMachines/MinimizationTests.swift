import Testing

@testable import Recur

@Suite("Finite state machines/minimization and equivalence")
struct MinimizationTests {
  let parity = FiniteStateMachine.parityOfZeros

  /// Counts zeros modulo 4 (outputting the parity) and carries an unreachable state: 5 states, 2 needed.
  func zerosModFour(outputs: [String: String]? = nil) throws -> FiniteStateMachine {
    try FiniteStateMachine(
      states: ["Z3", "Z0", "Z1", "Z2", "dead"], inputs: ["1", "0"], initialState: "Z0",
      transitions: [
        "Z0": ["0": "Z1", "1": "Z0"], "Z1": ["0": "Z2", "1": "Z1"], "Z2": ["0": "Z3", "1": "Z2"],
        "Z3": ["0": "Z0", "1": "Z3"], "dead": ["0": "dead", "1": "Z1"],
      ],
      outputs: outputs ?? ["Z0": "1", "Z1": "0", "Z2": "1", "Z3": "0", "dead": "1"],
      accepting: ["Z0", "Z2"])
  }

  @Test("a redundant parity machine minimizes to the chapter's two states")
  func redundantParity() throws {
    let big = try zerosModFour()
    #expect(!big.isMinimal)
    #expect(big.equivalentStateClasses() == [["Z3", "Z1"], ["Z0", "Z2"]])
    let small = big.minimized()
    #expect(small.states == ["Z3", "Z0"])
    #expect(small.initialState == "Z0")
    #expect(small.isMinimal)
    #expect(small.isEquivalent(to: parity))
    #expect(big.isEquivalent(to: parity))
    #expect(try small.distinguishingInput(from: parity) == nil)
    for string in binaryStrings(upTo: 8) {
      #expect(small.transduce(string) == big.transduce(string))
      #expect(try small.accepts(string) == big.accepts(string))
    }
  }

  @Test("a minimal machine minimizes to itself")
  func minimalFixedPoint() {
    #expect(parity.isMinimal)
    #expect(parity.minimized() == parity)
  }

  @Test("the distinguishing input is a shortest one")
  func shortestCounterexample() throws {
    // Differs from parity only once three zeros have been read.
    let wrong = try zerosModFour(outputs: ["Z0": "1", "Z1": "0", "Z2": "1", "Z3": "1", "dead": "1"])
    #expect(wrong.minimized().states.count == 4)
    let witness = try #require(try wrong.distinguishingInput(from: parity, observing: .outputs))
    #expect(witness == ["0", "0", "0"])
    #expect(wrong.transduce(witness).last != parity.transduce(witness).last)
    #expect(!wrong.isEquivalent(to: parity, observing: .outputs))
    // The accepting sets still agree, so an acceptance-only observer cannot tell them apart.
    #expect(wrong.isEquivalent(to: parity, observing: .acceptance))
  }

  @Test("observations: outputs, acceptance, or both; the empty input counts")
  func observations() throws {
    let noAccepting = try FiniteStateMachine(
      states: parity.states, inputs: parity.inputs, initialState: parity.initialState,
      transitions: parity.transitions, outputs: parity.outputs)
    #expect(noAccepting.isEquivalent(to: parity, observing: .outputs))
    #expect(!noAccepting.isEquivalent(to: parity, observing: .acceptance))
    #expect(!noAccepting.isEquivalent(to: parity))
    #expect(try noAccepting.distinguishingInput(from: parity) == [])

    let onesParity = try FiniteStateMachine(
      states: ["S0", "S1"], inputs: ["0", "1"], initialState: "S1",
      transitions: ["S0": ["0": "S0", "1": "S1"], "S1": ["0": "S1", "1": "S0"]],
      outputs: ["S0": "0", "S1": "1"], accepting: ["S1"])
    #expect(try onesParity.distinguishingInput(from: parity) == ["0"])
  }

  @Test("input order does not matter; different input sets throw a named error")
  func alphabets() throws {
    let reordered = try FiniteStateMachine(
      states: ["odd", "even"], inputs: ["1", "0"], initialState: "even",
      transitions: ["odd": ["0": "even", "1": "odd"], "even": ["0": "odd", "1": "even"]],
      outputs: ["odd": "0", "even": "1"], accepting: ["even"])
    #expect(reordered.isEquivalent(to: parity))
    #expect(parity.isEquivalent(to: reordered))

    let ternary = try FiniteStateMachine(
      states: ["s"], inputs: ["0", "1", "2"], initialState: "s",
      transitions: ["s": ["0": "s", "1": "s", "2": "s"]], outputs: ["s": "1"])
    let expected = FiniteStateMachineError.inputAlphabetMismatch(left: ["0", "1"], right: ["0", "1", "2"])
    #expect(throws: expected) { try parity.distinguishingInput(from: ternary) }
    #expect(expected.description == "machines read different inputs: [0, 1] vs [0, 1, 2]")
    #expect(!parity.isEquivalent(to: ternary))
  }

  /// A random complete machine over {0, 1} with outputs in {a, b} and random accepting states.
  func randomMachine(states count: Int, using generator: inout SeededGenerator) -> FiniteStateMachine {
    let names = (0..<count).map { "q\($0)" }
    var transitions: [String: [String: String]] = [:]
    var outputs: [String: String] = [:]
    var accepting: Set<String> = []
    for name in names {
      transitions[name] = [
        "0": names[Int(generator.next() % UInt64(count))], "1": names[Int(generator.next() % UInt64(count))],
      ]
      outputs[name] = generator.next() % 2 == 0 ? "a" : "b"
      if generator.next() % 2 == 0 { accepting.insert(name) }
    }
    return try! FiniteStateMachine(
      states: names, inputs: ["0", "1"], initialState: names[0], transitions: transitions,
      outputs: outputs, accepting: accepting)
  }

  /// What an observer of outputs and acceptance sees after each of `strings`.
  func behaviour(_ m: FiniteStateMachine, on strings: [[String]], from start: String? = nil) -> [String] {
    strings.map { s in
      let end = m.finalState(after: s, from: start)
      return m.output(end) + (m.acceptingTable[m.stateIndex(of: end)!] ? "+" : "-")
    }
  }

  @Test("random machines: minimization and equivalence agree with brute force over all short strings")
  func randomAgainstBruteForce() throws {
    var generator = SeededGenerator(seed: 7)
    // Two machines of at most 3 states that differ do so on a string shorter than 3 × 3.
    let strings = binaryStrings(upTo: 8)
    var equivalentPairs = 0
    for _ in 0..<150 {
      let m1 = randomMachine(states: 1 + Int(generator.next() % 3), using: &generator)
      let m2 = randomMachine(states: 1 + Int(generator.next() % 3), using: &generator)
      let b1 = behaviour(m1, on: strings)
      let b2 = behaviour(m2, on: strings)

      let small = m1.minimized()
      #expect(behaviour(small, on: strings) == b1)
      #expect(small.isMinimal)
      #expect(small.minimized() == small)
      #expect(small.isEquivalent(to: m1))

      let witness = try m1.distinguishingInput(from: m2)
      #expect(m1.isEquivalent(to: m2) == (b1 == b2))
      if let witness {
        let first = b1.indices.first { b1[$0] != b2[$0] }!
        #expect(witness.count == strings[first].count, "a shorter distinguishing string exists")
        #expect(behaviour(m1, on: [witness]) != behaviour(m2, on: [witness]))
      } else {
        equivalentPairs += 1
      }
    }
    // The sample must exercise both answers.
    #expect(equivalentPairs > 0 && equivalentPairs < 150)
  }

  @Test("random machines: the number of minimal states is the number of distinguishable reachable states")
  func randomStateCount() {
    var generator = SeededGenerator(seed: 11)
    let strings = binaryStrings(upTo: 6)
    for _ in 0..<60 {
      let m = randomMachine(states: 1 + Int(generator.next() % 6), using: &generator)
      let reachable = m.reachableStateIndices
      // States of at most 6 that differ do so on a string of length at most 4.
      let distinct = Set(reachable.map { behaviour(m, on: strings, from: m.states[$0]) })
      #expect(m.minimized().states.count == distinct.count)
    }
  }
}

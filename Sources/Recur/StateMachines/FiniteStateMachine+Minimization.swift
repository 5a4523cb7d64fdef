/// Minimization and equivalence of finite state machines.
///
/// Two states are *equivalent* when, for every input sequence, the states they lead to have the same
/// output and the same acceptance. Minimization (Moore's partition refinement) merges equivalent states
/// and drops states unreachable from s_0; two machines are equivalent when their initial states are,
/// which is checked on the product machine by breadth-first search.
extension FiniteStateMachine {
  /// What an observer compares when deciding whether two machines behave the same.
  public enum Observation: Sendable, Equatable {
    /// The output f_o(s_t) after every input prefix (including the empty one).
    case outputs
    /// Whether s_t is accepting after every input prefix (including the empty one).
    case acceptance
    /// Both the output and the acceptance after every input prefix.
    case outputsAndAcceptance
  }

  /// The classes of equivalent reachable states, found by Moore's partition refinement.
  ///
  /// Starting from the partition by (output, accepting), a class is split while two of its states move,
  /// on some input, into different classes. Unreachable states are left out.
  ///
  /// - Returns: the classes as state names; each class in ``states`` order, classes ordered by their
  ///   first member's position in ``states``.
  public func equivalentStateClasses() -> [[String]] {
    let (members, _) = refinedPartition()
    return members.map { $0.map { states[$0] } }
  }

  /// Whether every state is reachable from s_0 and no two states are equivalent.
  public var isMinimal: Bool {
    equivalentStateClasses().count == states.count
  }

  /// The equivalent machine with the fewest states.
  ///
  /// Each class of equivalent reachable states (``equivalentStateClasses()``) becomes one state, named
  /// after the class member that comes first in ``states``; states keep their relative order. A machine
  /// that is already minimal is returned unchanged.
  public func minimized() -> FiniteStateMachine {
    let (members, blockOf) = refinedPartition()
    let minimalTable = members.map { block in table[block[0]].map { blockOf[$0] } }
    return FiniteStateMachine(
      unchecked: members.map { states[$0[0]] },
      inputs: inputs,
      initialIndex: blockOf[initialIndex],
      table: minimalTable,
      outputTable: members.map { outputTable[$0[0]] },
      acceptingTable: members.map { acceptingTable[$0[0]] })
  }

  /// The coarsest partition of the reachable states that respects outputs, acceptance and transitions.
  ///
  /// - Returns: `members[b]` the state indices of class `b` (ascending; classes ordered by first member),
  ///   and `blockOf[s]` the class of state `s` (-1 for unreachable states).
  private func refinedPartition() -> (members: [[Int]], blockOf: [Int]) {
    let reachable = reachableStateIndices.sorted()
    var blockOf = [Int](repeating: -1, count: states.count)

    // Initial partition: by what an observer sees in the state itself.
    struct Observed: Hashable {
      let output: String
      let accepting: Bool
    }
    var firstBlock: [Observed: Int] = [:]
    for s in reachable {
      let key = Observed(output: outputTable[s], accepting: acceptingTable[s])
      if let b = firstBlock[key] {
        blockOf[s] = b
      } else {
        blockOf[s] = firstBlock.count
        firstBlock[key] = firstBlock.count
      }
    }
    var blockCount = firstBlock.count

    // Refine: a state's signature is its class and the classes it moves to on each input. Each round
    // can only split classes, so it stops when the number of classes no longer grows.
    while true {
      var newBlock: [[Int]: Int] = [:]
      var next = blockOf
      for s in reachable {
        let signature = [blockOf[s]] + table[s].map { blockOf[$0] }
        if let b = newBlock[signature] {
          next[s] = b
        } else {
          next[s] = newBlock.count
          newBlock[signature] = newBlock.count
        }
      }
      blockOf = next
      if newBlock.count == blockCount { break }
      blockCount = newBlock.count
    }

    // Renumber classes by their first member so that the result does not depend on hashing order.
    var renumber = [Int](repeating: -1, count: blockCount)
    var members: [[Int]] = []
    for s in reachable {
      let b = blockOf[s]
      if renumber[b] < 0 {
        renumber[b] = members.count
        members.append([])
      }
      members[renumber[b]].append(s)
    }
    return (members, blockOf.map { $0 < 0 ? -1 : renumber[$0] })
  }

  /// A shortest input sequence after which the two machines differ in what `observation` compares, or
  /// nil when they are equivalent.
  ///
  /// The search runs breadth-first over pairs of states (the product machine) from the pair of initial
  /// states, matching inputs by name, so the sequence returned is one of the shortest.
  ///
  /// - Parameters:
  ///   - other: a machine over the same set of input names (in any order).
  ///   - observation: what must agree after every input prefix.
  /// - Throws: ``FiniteStateMachineError/inputAlphabetMismatch(left:right:)`` when the input sets differ.
  public func distinguishingInput(
    from other: FiniteStateMachine, observing observation: Observation = .outputsAndAcceptance
  ) throws(FiniteStateMachineError) -> [String]? {
    guard Set(inputs) == Set(other.inputs), inputs.count == other.inputs.count else {
      throw .inputAlphabetMismatch(left: inputs, right: other.inputs)
    }
    let otherInput = inputs.map { other.inputIndex(of: $0)! }

    func differs(_ a: Int, _ b: Int) -> Bool {
      switch observation {
      case .outputs: outputTable[a] != other.outputTable[b]
      case .acceptance: acceptingTable[a] != other.acceptingTable[b]
      case .outputsAndAcceptance:
        outputTable[a] != other.outputTable[b] || acceptingTable[a] != other.acceptingTable[b]
      }
    }

    // parent[pair] = (previous pair, input index) for the BFS tree; pairs are a * other.count + b.
    let width = other.states.count
    var parent = [(pair: Int, input: Int)?](repeating: nil, count: states.count * width)
    var visited = [Bool](repeating: false, count: states.count * width)
    let start = initialIndex * width + other.initialIndex
    visited[start] = true
    var queue = [start]
    var head = 0
    while head < queue.count {
      let pair = queue[head]
      head += 1
      let (a, b) = (pair / width, pair % width)
      if differs(a, b) {
        var path: [String] = []
        var current = pair
        while let step = parent[current] {
          path.append(inputs[step.input])
          current = step.pair
        }
        return path.reversed()
      }
      for x in inputs.indices {
        let next = table[a][x] * width + other.table[b][otherInput[x]]
        if !visited[next] {
          visited[next] = true
          parent[next] = (pair, x)
          queue.append(next)
        }
      }
    }
    return nil
  }

  /// Whether the two machines agree, after every input sequence, on what `observation` compares.
  ///
  /// Machines with different input sets are not equivalent. Equivalence ignores state names and
  /// unreachable states: a machine is equivalent to its ``minimized()`` form.
  public func isEquivalent(
    to other: FiniteStateMachine, observing observation: Observation = .outputsAndAcceptance
  ) -> Bool {
    do {
      return try distinguishingInput(from: other, observing: observation) == nil
    } catch {
      return false
    }
  }
}

import Foundation

/// A finite state machine read back out of a trained recurrent network, with how well it agrees with the
/// network and with the machine the network was trained to imitate.
public struct ExtractedMachine: Sendable {
  /// The quantized machine: one state per cluster of hidden states, transitions by majority vote.
  public var machine: FiniteStateMachine
  /// ``machine`` after minimization (equivalent states merged).
  public var minimized: FiniteStateMachine
  /// k, the number of clusters used.
  public var clusterCount: Int
  /// The fraction of held-out steps at which the extracted machine's output equals the network's.
  public var agreementWithNetwork: Double
  /// The fraction of held-out steps at which the extracted machine's output equals the target machine's,
  /// when a target was given.
  public var agreementWithTarget: Double?
  /// The fraction of held-out steps at which the network's output equals the target machine's.
  public var networkAgreementWithTarget: Double?
  /// Whether ``minimized`` is equivalent to the target machine (same output after every input string).
  public var equivalentToTarget: Bool?
  /// Agreement with the network on the selection sequences for each k tried, in order.
  public var agreementByClusterCount: [(k: Int, agreement: Double)]
}

/// Extraction of finite state machines from recurrent networks by clustering their hidden states
/// (in the spirit of Omlin & Giles 1996 and Weiss, Goldberg & Yahav 2018): the network is a state machine
/// with a continuous 𝒮; when it has learned a finite machine its states gather in a few clusters.
///
/// 1. Run the network over many input strings and collect every state s_t (all layers' h, and c for the
///    LSTM), with s_0.
/// 2. Cluster them with k-means (k-means++ seeding from a seeded generator) for each k tried.
/// 3. Build the transition table: f_s(cluster, x) is the cluster most often reached from it on x (a majority
///    vote); a pair never observed goes where the network sends the cluster's centroid. f_o(cluster) is the
///    majority of the labelled network outputs of its states; s_0 is the cluster of the zero state.
/// 4. Keep the smallest k whose machine agrees with the network on every step of the selection strings (else
///    the best k), minimize it, and measure agreement on held-out strings.
public enum StateMachineExtraction {
  /// The settings of an extraction.
  public struct Options: Sendable {
    /// The numbers of clusters tried, in order.
    public var clusterCounts: [Int]
    /// The strings whose states are clustered.
    public var sampleCount: Int
    /// Their lengths.
    public var sampleLengths: ClosedRange<Int>
    /// Strings used to choose k, and held-out strings used to report agreement.
    public var checkCount: Int
    /// Their lengths (longer than the samples tests generalization).
    public var checkLengths: ClosedRange<Int>
    /// The agreement with the network at which the search over k stops.
    public var requiredAgreement: Double
    /// Lloyd iterations of k-means at most.
    public var iterations: Int
    /// Seeds the strings and the k-means initialization.
    public var seed: UInt64

    /// Extraction options; see each property.
    public init(
      clusterCounts: [Int] = Array(2...12), sampleCount: Int = 200, sampleLengths: ClosedRange<Int> = 1...20,
      checkCount: Int = 200, checkLengths: ClosedRange<Int> = 1...40, requiredAgreement: Double = 1,
      iterations: Int = 50, seed: UInt64 = 1
    ) {
      self.clusterCounts = clusterCounts
      self.sampleCount = sampleCount
      self.sampleLengths = sampleLengths
      self.checkCount = checkCount
      self.checkLengths = checkLengths
      self.requiredAgreement = requiredAgreement
      self.iterations = iterations
      self.seed = seed
    }
  }

  /// Extracts a finite state machine from `network`.
  ///
  /// - Parameters:
  ///   - network: a network over vector or token inputs.
  ///   - alphabet: the input names 𝒳 of the extracted machine and the network input each stands for.
  ///   - label: turns a network output g_t into an output name of the extracted machine.
  ///   - target: the machine the network imitates, over the same input names, when there is one.
  ///   - options: the strings, the k to try and the seed.
  /// - Throws: ``ModelError`` when the alphabet is empty or its inputs do not fit the network.
  public static func extract<Scalar: RecurScalar>(
    from network: RecurrentNetwork<Scalar>, alphabet: [(name: String, input: NetworkInput<Scalar>)],
    label: @escaping ([Scalar]) -> String, target: FiniteStateMachine? = nil, options: Options = .init()
  ) throws -> ExtractedMachine {
    guard !alphabet.isEmpty else { throw ModelError("extraction needs at least one input symbol") }
    guard !network.configuration.bidirectional else {
      throw ModelError("a bidirectional network is not a state machine read one step at a time; extraction needs one direction")
    }
    guard !options.clusterCounts.isEmpty, options.clusterCounts.allSatisfy({ $0 >= 1 }) else {
      throw ModelError("extraction needs cluster counts of at least 1")
    }
    var rng = SeededGenerator(seed: options.seed)
    func strings(_ count: Int, _ lengths: ClosedRange<Int>) -> [[Int]] {
      (0..<count).map { _ in
        (0..<Int.random(in: lengths, using: &rng)).map { _ in Int.random(in: 0..<alphabet.count, using: &rng) }
      }
    }
    let samples = strings(options.sampleCount, options.sampleLengths)
    let selection = strings(options.checkCount, options.checkLengths)
    let heldOut = strings(options.checkCount, options.checkLengths)

    let traced = try trace(network, strings: samples, alphabet: alphabet)
    let selectionTrace = try trace(network, strings: selection, alphabet: alphabet)
    let heldOutTrace = try trace(network, strings: heldOut, alphabet: alphabet)
    let points = traced.states
    let pointLabels = traced.outputs.map(label)

    var best: (machine: FiniteStateMachine, k: Int, agreement: Double)? = nil
    var tried: [(k: Int, agreement: Double)] = []
    for k in options.clusterCounts where k <= points.count {
      var kmRng = SeededGenerator(seed: options.seed &+ UInt64(k))
      let (centroids, assignment) = kMeans(points, k: k, iterations: options.iterations, generator: &kmRng)
      let machine = try buildMachine(
        network: network, alphabet: alphabet, label: label, strings: samples, trace: traced,
        pointLabels: pointLabels, centroids: centroids, assignment: assignment)
      let agreement = self.agreement(machine, with: selectionTrace, strings: selection, alphabet: alphabet, label: label)
      tried.append((k, agreement))
      if best == nil || agreement > best!.agreement { best = (machine, k, agreement) }
      if agreement >= options.requiredAgreement { break }
    }
    guard let chosen = best else { throw ModelError("no cluster count fits the \(points.count) states collected") }
    let minimized = chosen.machine.minimized()

    // Held-out agreement: extracted machine vs network, vs target, and network vs target.
    var withNetwork = 0, withTarget = 0, networkWithTarget = 0, total = 0
    var position = 0
    for s in heldOut {
      let names = s.map { alphabet[$0].name }
      let extracted = minimized.transduce(names)
      let expected = target?.transduce(names)
      for t in s.indices {
        let net = label(heldOutTrace.outputs[position + t])
        if extracted[t] == net { withNetwork += 1 }
        if let expected {
          if extracted[t] == expected[t] { withTarget += 1 }
          if net == expected[t] { networkWithTarget += 1 }
        }
      }
      position += s.count
      total += s.count
    }
    let n = Double(max(total, 1))
    return ExtractedMachine(
      machine: chosen.machine, minimized: minimized, clusterCount: chosen.k, agreementWithNetwork: Double(withNetwork) / n,
      agreementWithTarget: target.map { _ in Double(withTarget) / n },
      networkAgreementWithTarget: target.map { _ in Double(networkWithTarget) / n },
      equivalentToTarget: target.map { minimized.isEquivalent(to: $0, observing: .outputs) },
      agreementByClusterCount: tried)
  }

  /// States and outputs of a network along strings: `states` holds s_0 first, then s_1 … s_n of each
  /// string in turn; `outputs` holds g_1 … g_n of each string in turn.
  struct Trace<Scalar: RecurScalar> {
    var states: [[Double]]
    var outputs: [[Scalar]]
  }

  /// The concatenated state (every layer's h, then every layer's c) of one sequence at one step.
  static func trace<Scalar: RecurScalar>(
    _ network: RecurrentNetwork<Scalar>, strings: [[Int]], alphabet: [(name: String, input: NetworkInput<Scalar>)]
  ) throws -> Trace<Scalar> {
    let config = network.configuration
    let nonEmpty = strings.filter { !$0.isEmpty }
    var trace = Trace<Scalar>(states: [network.zeroState(batch: 1).flattened], outputs: [])
    guard !nonEmpty.isEmpty else { return trace }
    let B = nonEmpty.count, T = nonEmpty.map(\.count).max()!
    let inputs: SequenceBatch<Scalar>.Inputs
    switch alphabet[0].input {
    case .token:
      var ids = [Int32](repeating: 0, count: T * B)
      for (b, s) in nonEmpty.enumerated() {
        for (t, x) in s.enumerated() {
          guard case .token(let id) = alphabet[x].input else { throw ModelError("the alphabet mixes tokens and vectors") }
          ids[t * B + b] = Int32(id)
        }
      }
      inputs = .tokens(ids)
    case .vector(let first):
      let I = first.count
      var x = [Scalar](repeating: 0, count: T * B * I)
      for (b, s) in nonEmpty.enumerated() {
        for (t, symbol) in s.enumerated() {
          guard case .vector(let v) = alphabet[symbol].input, v.count == I else {
            throw ModelError("the alphabet's input vectors differ in length or mix with tokens")
          }
          for i in 0..<I { x[(t * B + b) * I + i] = v[i] }
        }
      }
      inputs = .vectors(x, features: I)
    }
    let batch = try SequenceBatch<Scalar>(
      steps: T, batchSize: B, lengths: nonEmpty.map(\.count), inputs: inputs,
      targets: .classes(Array(repeating: -1, count: T * B)))
    try network.validate(batch, loss: nil)
    let ws = NetworkWorkspace<Scalar>()
    network.forwardLogits(batch, initialState: nil, workspace: ws, dropout: nil)
    let V = config.outputSize, H = config.hiddenSize, L = config.layers
    var g = [Scalar](repeating: 0, count: T * B * V)
    g.withUnsafeMutableBufferPointer { network.applyOutputActivation(rows: T * B, z: ws.logits.pointer, g: $0.baseAddress!) }
    let memory = config.cell.cell.hasMemoryCell
    for (b, s) in nonEmpty.enumerated() {
      for t in 0..<s.count {
        var state: [Double] = []
        state.reserveCapacity(H * L * (memory ? 2 : 1))
        for l in 0..<L {
          let h = ws.stack.caches[l].h.pointer + (t + 1) * B * H + b * H
          for j in 0..<H { state.append(Double(h[j])) }
        }
        if memory {
          for l in 0..<L {
            let c = ws.stack.caches[l].c.pointer + (t + 1) * B * H + b * H
            for j in 0..<H { state.append(Double(c[j])) }
          }
        }
        trace.states.append(state)
        trace.outputs.append(Array(g[((t * B + b) * V)..<((t * B + b) * V + V)]))
      }
    }
    return trace
  }

  /// Builds the quantized machine for one clustering of the traced states.
  static func buildMachine<Scalar: RecurScalar>(
    network: RecurrentNetwork<Scalar>, alphabet: [(name: String, input: NetworkInput<Scalar>)],
    label: ([Scalar]) -> String, strings: [[Int]], trace: Trace<Scalar>, pointLabels: [String],
    centroids: [[Double]], assignment: [Int]
  ) throws -> FiniteStateMachine {
    let k = centroids.count, X = alphabet.count
    var votes = [[[Int]]](repeating: [[Int]](repeating: [Int](repeating: 0, count: k), count: X), count: k)
    var outputVotes = [[String: Int]](repeating: [:], count: k)
    var position = 1  // states[0] is s_0; outputs are indexed one behind the states
    for s in strings where !s.isEmpty {
      var previous = assignment[0]
      for x in s {
        let current = assignment[position]
        votes[previous][x][current] += 1
        outputVotes[current][pointLabels[position - 1], default: 0] += 1
        previous = current
        position += 1
      }
    }
    let names = (0..<k).map { "q\($0)" }
    var transitions: [String: [String: String]] = [:]
    var outputs: [String: String] = [:]
    for c in 0..<k {
      var row: [String: String] = [:]
      for x in 0..<X {
        let counts = votes[c][x]
        var target: Int
        if counts.contains(where: { $0 > 0 }) {
          target = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
        } else {
          // Never observed: follow the network from the cluster's centroid.
          let next = network.transition(RecurrentState<Scalar>(flattened: centroids[c], like: network), alphabet[x].input)
          target = nearest(next.flattened, centroids)
        }
        row[alphabet[x].name] = names[target]
      }
      transitions[names[c]] = row
      if let (name, _) = outputVotes[c].max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
        outputs[names[c]] = name
      } else {
        outputs[names[c]] = label(network.output(RecurrentState<Scalar>(flattened: centroids[c], like: network)))
      }
    }
    return try FiniteStateMachine(
      states: names, inputs: alphabet.map(\.name), initialState: names[assignment[0]], transitions: transitions,
      outputs: outputs)
  }

  /// The fraction of steps of `strings` at which the machine (fed the same inputs) outputs the label of the
  /// network's output.
  static func agreement<Scalar: RecurScalar>(
    _ machine: FiniteStateMachine, with trace: Trace<Scalar>, strings: [[Int]],
    alphabet: [(name: String, input: NetworkInput<Scalar>)], label: ([Scalar]) -> String
  ) -> Double {
    var right = 0, total = 0, position = 0
    for s in strings {
      let outputs = machine.transduce(s.map { alphabet[$0].name })
      for t in s.indices where outputs[t] == label(trace.outputs[position + t]) { right += 1 }
      position += s.count
      total += s.count
    }
    return Double(right) / Double(max(total, 1))
  }

  /// k-means with k-means++ seeding: returns the centroids and each point's cluster.
  static func kMeans(_ points: [[Double]], k: Int, iterations: Int, generator: inout SeededGenerator)
    -> (centroids: [[Double]], assignment: [Int])
  {
    precondition(k >= 1 && k <= points.count, "k-means needs 1 ≤ k ≤ the number of points")
    var centroids = [points[Int.random(in: 0..<points.count, using: &generator)]]
    var distance = points.map { squaredDistance($0, centroids[0]) }
    while centroids.count < k {
      let total = distance.reduce(0, +)
      var chosen = 0
      if total > 0 {
        var r = generator.nextUnit() * total
        for (i, d) in distance.enumerated() {
          r -= d
          if r < 0 { chosen = i; break }
          chosen = i
        }
      } else {
        chosen = Int.random(in: 0..<points.count, using: &generator)
      }
      centroids.append(points[chosen])
      for i in points.indices { distance[i] = min(distance[i], squaredDistance(points[i], points[chosen])) }
    }
    var assignment = [Int](repeating: 0, count: points.count)
    let dimension = points[0].count
    for iteration in 0..<max(1, iterations) {
      var changed = false
      for (i, p) in points.enumerated() {
        let c = nearest(p, centroids)
        if c != assignment[i] || iteration == 0 { changed = changed || c != assignment[i]; assignment[i] = c }
      }
      var sums = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: k)
      var counts = [Int](repeating: 0, count: k)
      for (i, p) in points.enumerated() {
        counts[assignment[i]] += 1
        for j in 0..<dimension { sums[assignment[i]][j] += p[j] }
      }
      for c in 0..<k where counts[c] > 0 { centroids[c] = sums[c].map { $0 / Double(counts[c]) } }
      if !changed && iteration > 0 { break }
    }
    return (centroids, assignment)
  }

  static func nearest(_ p: [Double], _ centroids: [[Double]]) -> Int {
    var best = 0, bestDistance = Double.infinity
    for (c, centroid) in centroids.enumerated() {
      let d = squaredDistance(p, centroid)
      if d < bestDistance { (best, bestDistance) = (c, d) }
    }
    return best
  }

  static func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
    return sum
  }
}

extension RecurrentState {
  /// Every layer's h (B = 1), then every layer's c, as one vector.
  var flattened: [Double] {
    h.flatMap { $0.scalars.map(Double.init) } + c.flatMap { $0.scalars.map(Double.init) }
  }

  /// The state of `network` (B = 1) whose ``flattened`` form is `values`.
  init(flattened values: [Double], like network: RecurrentNetwork<Scalar>) {
    let H = network.configuration.hiddenSize, L = network.configuration.layers
    var state = network.zeroState(batch: 1)
    for l in 0..<L {
      state.h[l] = Tensor(shape: [1, H], scalars: values[(l * H)..<(l * H + H)].map { Scalar($0) })
    }
    if !state.c.isEmpty {
      for l in 0..<L {
        let base = L * H + l * H
        state.c[l] = Tensor(shape: [1, H], scalars: values[base..<(base + H)].map { Scalar($0) })
      }
    }
    self = state
  }
}

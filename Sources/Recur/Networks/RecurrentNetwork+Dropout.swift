extension RecurrentNetwork {
  /// The same network (same weights) with another dropout probability on the embedding and between layers.
  ///
  /// - Parameter dropout: p in [0, 1).
  /// - Throws: ``ModelError`` when `dropout` is out of range.
  public func withDropout(_ dropout: Double) throws -> RecurrentNetwork {
    var configuration = self.configuration
    configuration.dropout = dropout
    var copy = try RecurrentNetwork(configuration, seed: 0)
    let source = namedParameters
    var index = 0
    copy.updateEachParameter { _, tensor in
      tensor = source[index].tensor
      index += 1
    }
    return copy
  }
}

extension RecurrentNetwork {
  /// The same network (same weights) with another dropout probability on the embedding and between layers.
  ///
  /// - Parameter dropout: p in [0, 1).
  /// - Throws: ``ModelError`` when `dropout` is out of range.
  public func withDropout(_ dropout: Double) throws -> RecurrentNetwork {
    try withTrainingRegularization(dropout: dropout, regularization: configuration.regularization)
  }

  /// The same network (same weights) with other training regularizers: plain dropout and the AWD-LSTM
  /// regularizers of ``Regularization``. Neither changes what the network computes outside training.
  ///
  /// - Throws: ``ModelError`` when a probability is out of range or the two conflict.
  public func withTrainingRegularization(dropout: Double, regularization: Regularization) throws -> RecurrentNetwork {
    var configuration = self.configuration
    configuration.dropout = dropout
    configuration.regularization = regularization
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

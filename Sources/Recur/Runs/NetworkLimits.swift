/// The largest sizes a network may have: one rule for the library (``RecurrentNetwork/Configuration/validate()``)
/// and for every command of the `recur` tool. Models that are allowed but would not fit in memory are refused
/// by the memory estimate (``RecurrentNetwork/Configuration/checkTrainingMemory(batch:steps:physicalMemory:)``).
public enum NetworkLimits {
  /// The largest H, the state size of a layer.
  public static let hiddenSize = 1 << 16
  /// The largest E, the embedding size of a token model.
  public static let embeddingSize = 1 << 16
  /// The largest L, the number of stacked layers.
  public static let layers = 64
}

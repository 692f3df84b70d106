/// Limits of the canonical wire encoding. Every decoder checks them before allocating.
public enum WireLimits {
    /// Current and only encoding version.
    public static let version: UInt8 = 1
    /// Most predecessors an operation may cite.
    public static let predsMax = 16
    /// Largest encoded signed operation, in bytes (the largest valid one is far smaller).
    public static let operationBytesMax = 1024
    /// Largest amount in one operation, in the token's smallest unit (2^96 − 1). A replica holds
    /// at most `ReplicaLimits.graphOpsMax` operations (at most 2^30 by its precondition), so no
    /// sum of amounts reaches 2^126 and the ledger's `Int128` accounts cannot overflow.
    public static let amountMax: Amount = (Amount(1) << 96) - 1
}

/// A node's durable operation log: every operation the node accepted (held with its canonical
/// wire bytes), in acceptance order (a causal order). It models a disk: it survives crashes and restarts;
/// everything else a node holds is memory and is lost.
import ChannelCore

public struct DurableLog: Sendable {
    public private(set) var entries: [SignedOperation] = []
    /// Most entries one log holds: the replica's default `graphOpsMax`, so a node never accepts
    /// an operation it cannot log.
    public static let entriesMax = 1 << 22

    public init() {}

    /// Appends one operation.
    public mutating func append(_ op: SignedOperation) {
        precondition(entries.count < DurableLog.entriesMax, "durable log full")
        entries.append(op)
    }

    public var count: Int { entries.count }
}

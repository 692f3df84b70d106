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

    /// Operations the node refused as breaking their author's chain. They are evidence (with
    /// the accepted operations they cite), so they are kept like accepted ones and received
    /// again on restart, or the evidence would be lost with a crash.
    public private(set) var refused: [SignedOperation] = []
    /// Most refused operations kept; beyond it the oldest evidence is still on disk and newer
    /// refusals are not kept (a Byzantine author cannot grow the disk without bound).
    public static let refusedMax = 1 << 16

    /// Keeps one refused operation; `false` when the limit is reached.
    @discardableResult
    public mutating func appendRefused(_ op: SignedOperation) -> Bool {
        guard refused.count < DurableLog.refusedMax else { return false }
        refused.append(op)
        return true
    }
}

/// A node's durable operation log: the wire bytes of every operation the node accepted, in
/// acceptance order (a causal order). It models a disk: it survives crashes and restarts;
/// everything else a node holds is memory and is lost.
public struct DurableLog: Sendable {
    public private(set) var entries: [[UInt8]] = []
    /// Most entries one log holds; the run stops with an error beyond it.
    public static let entriesMax = 4_000_000

    public init() {}

    /// Appends one operation's wire bytes.
    public mutating func append(_ bytes: [UInt8]) {
        precondition(entries.count < DurableLog.entriesMax, "durable log full")
        entries.append(bytes)
    }

    public var count: Int { entries.count }
}

/// Tunables of a channel node, with their limits.
public struct NodeConfig: Hashable, Sendable {
    /// How often a node pushes its outbox of new operations.
    public var gossipInterval: SimDuration
    /// Random peers each operation received from another node is relayed to (0: no relays).
    /// A node's own operations are always pushed to every peer.
    public var gossipFanout: Int
    /// How often a node starts an anti-entropy exchange with a random peer.
    public var syncInterval: SimDuration
    /// Most operations in one `ops` message.
    public var syncBatchOpsMax: Int
    /// Most ids in one `want` message.
    public var wantIdsMax: Int
    /// Most heads in one `heads` message.
    public var headsMax: Int
    /// Most operations waiting in a node's outbox; the oldest are dropped beyond it
    /// (anti-entropy still delivers them).
    public var outboxOpsMax: Int

    public init(
        gossipInterval: SimDuration = .millis(20), gossipFanout: Int = 0, syncInterval: SimDuration = .millis(250),
        syncBatchOpsMax: Int = 512, wantIdsMax: Int = 1024, headsMax: Int = 256, outboxOpsMax: Int = 8192
    ) {
        precondition(gossipInterval.micros > 0 && syncInterval.micros > 0)
        precondition(gossipFanout >= 0 && gossipFanout <= 64)
        precondition(syncBatchOpsMax >= 1 && syncBatchOpsMax <= 4096)
        precondition(wantIdsMax >= 1 && wantIdsMax <= 8192)
        precondition(headsMax >= 1 && headsMax <= 4096)
        precondition(outboxOpsMax >= 1)
        self.gossipInterval = gossipInterval
        self.gossipFanout = gossipFanout
        self.syncInterval = syncInterval
        self.syncBatchOpsMax = syncBatchOpsMax
        self.wantIdsMax = wantIdsMax
        self.headsMax = headsMax
        self.outboxOpsMax = outboxOpsMax
    }
}

/// Limits of one replica. Everything that grows with input has one.
public struct ReplicaLimits: Sendable, Hashable {
    /// Most operations waiting for predecessors; beyond it, arrivals are dropped (sync offers
    /// them again later).
    public var pendingOpsMax: Int
    /// Most operations in the graph.
    public var graphOpsMax: Int
    /// Most recently applied operations that can be rolled back by their undo records. A late
    /// operation that sorts before all of them forces a rebuild of the ledger from the start
    /// (counted in `MergeStats.rebuilds`).
    public var undoOpsMax: Int

    public init(pendingOpsMax: Int = 8192, graphOpsMax: Int = 1 << 22, undoOpsMax: Int = 1 << 16) {
        precondition(pendingOpsMax > 0)
        precondition(graphOpsMax > 0 && graphOpsMax <= 1 << 30, "graphOpsMax bounds ledger sums (see WireLimits.amountMax)")
        precondition(undoOpsMax > 0)
        self.pendingOpsMax = pendingOpsMax
        self.graphOpsMax = graphOpsMax
        self.undoOpsMax = undoOpsMax
    }
}

/// Counters of the merge, for benchmarks and the `sometimes` catalog.
public struct MergeStats: Hashable, Sendable {
    /// Operations applied at the end of the order (the common case).
    public var appendedOps = 0
    /// Late operations that sorted before applied ones and forced a rollback.
    public var rollbacks = 0
    /// Operations re-applied after rollbacks.
    public var replayedOps = 0
    /// Late operations older than the undo horizon, which rebuilt the ledger from the start.
    public var rebuilds = 0
    /// Late operations merged without a rollback because they commute with their tail.
    public var commutingInserts = 0
    /// Replays of an operation's causal past to classify a rejection.
    public var causalReplays = 0

    public init() {}
}

/// Position of an operation in the total order: `(depth, id)`, which respects causality
/// because every predecessor has a smaller depth.
public struct OrderKey: Hashable, Comparable, Sendable {
    public let depth: UInt64
    public let id: OperationID
    /// Where the replica stores the operation (an index into its node store), so applying in
    /// order needs no hash lookup. Not part of the order.
    let slot: Int32

    public static func < (lhs: OrderKey, rhs: OrderKey) -> Bool {
        lhs.depth != rhs.depth ? lhs.depth < rhs.depth : lhs.id < rhs.id
    }
}

/// An accepted operation with what the graph derived about it.
extension Array where Element == OrderKey {
    /// First position whose key is not less than `key` (the array is sorted).
    func lowerBound(_ key: OrderKey) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

struct GraphNode: Sendable {
    let op: SignedOperation
    /// Index in the replica's node store.
    let slot: Int32
    /// `1 + max(depth of preds)`; 1 without preds.
    let depth: UInt64
    /// The greatest chain height cited in the operation's causal past, itself included.
    let chainHeight: UInt64
    /// Whether the operation's own receipt or anchor signature verified (true for other kinds).
    let chainProofValid: Bool

    var key: OrderKey { OrderKey(depth: depth, id: op.id, slot: slot) }
    var context: ApplyContext { ApplyContext(chainHeight: chainHeight, chainProofValid: chainProofValid, depth: depth) }
}

/// An author and a seq: the slot an honest author fills exactly once.
struct Seat: Hashable, Sendable {
    let author: ParticipantIndex
    let seq: UInt64
}

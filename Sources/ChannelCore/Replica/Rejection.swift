/// Why the graph refused an operation.
public enum GraphRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes are not a canonical operation. Dropped; proves nothing about anyone.
    case malformed(WireError)
    /// The operation belongs to another channel (a replay). Dropped.
    case wrongChannel
    /// The author is not a participant. Dropped.
    case unknownAuthor(ParticipantIndex)
    /// The signature does not verify: proves nothing about the claimed author. Dropped.
    case badSignature
    /// The pending buffer holds `limit` operations (`ReplicaLimits.pendingOpsMax`). Dropped;
    /// sync will offer it again.
    case pendingBufferFull(limit: Int)
    /// The author already has `limit` operations in the pending buffer: its share
    /// (`Replica.pendingPerAuthorMax`, `max(256, pendingOpsMax / participants)`), so that one
    /// author citing ids that never come cannot crowd out the others. Dropped; sync will offer
    /// it again.
    case authorPendingShareFull(author: ParticipantIndex, limit: Int)
    /// The graph holds `ReplicaLimits.graphOpsMax` operations. Dropped.
    case graphFull(limit: Int)
    /// The author chain rules are broken: `seq` 1 cites an own operation, or `seq` n does not
    /// cite exactly one own operation, with `seq` n−1. Signed, so attributable; recorded.
    case brokenAuthorChain
    /// A predecessor is on record as rejected; recorded. The id named is the smallest of the
    /// operation's predecessors on record as rejected at this replica, and the record follows
    /// when a smaller one is recorded later, so that it depends only on the operations held,
    /// never on the order they arrived in (docs/merge-and-ledger.md, "Acceptance").
    case predecessorRejected(OperationID)

    /// Whether the rejection is recorded as a signed misbehaviour of the author (the others
    /// are dropped without a trace, because they prove nothing about the author).
    public var isAttributable: Bool {
        switch self {
        case .brokenAuthorChain, .predecessorRejected: return true
        case .malformed, .wrongChannel, .unknownAuthor, .badSignature, .pendingBufferFull, .authorPendingShareFull, .graphFull:
            return false
        }
    }

    public var description: String {
        switch self {
        case let .malformed(error): return "malformed: \(error)"
        case .wrongChannel: return "wrong channel"
        case let .unknownAuthor(author): return "unknown author \(author)"
        case .badSignature: return "bad signature"
        case let .pendingBufferFull(limit): return "pending buffer full (\(limit) operations)"
        case let .authorPendingShareFull(author, limit): return "author \(author)'s share of the pending buffer full (\(limit) operations)"
        case let .graphFull(limit): return "graph full (\(limit) operations)"
        case .brokenAuthorChain: return "broken author chain"
        case let .predecessorRejected(id): return "predecessor \(id.short) rejected"
        }
    }
}

/// The two kinds of rejection (DESIGN.md, "Two kinds of rejection").
public enum RejectionClass: String, Hashable, Sendable {
    /// The operation breaks a rule given only its own causal past: the author knew. Slashable.
    case invalidInCausalPast
    /// Valid in its causal past; refused only because a concurrent operation sorted first.
    case concurrentConflict
    /// Refused on the operation's own terms, harming nobody: a condition its author set (a
    /// post-only order that would cross) or a reference to something gone (a cancel of a
    /// closed order). Never evidence, whatever its causal past held (docs/apps/README.md).
    case void
}

/// Why an operation was refused, by the graph or by the ledger.
public enum RejectionReason: Hashable, Sendable, CustomStringConvertible {
    case graph(GraphRejection)
    case ledger(LedgerRejection)

    public var description: String {
        switch self {
        case let .graph(reason): return reason.description
        case let .ledger(reason): return reason.description
        }
    }
}

/// A refused operation that stays on record with its reason and class.
public struct RejectionRecord: Hashable, Sendable, CustomStringConvertible {
    public let id: OperationID
    public let author: ParticipantIndex
    public let seq: UInt64
    public let reason: RejectionReason
    public let kind: RejectionClass

    init(id: OperationID, author: ParticipantIndex, seq: UInt64, reason: RejectionReason, kind: RejectionClass) {
        if case let .graph(graph) = reason { precondition(graph.isAttributable, "only attributable graph rejections are on record") }
        self.id = id
        self.author = author
        self.seq = seq
        self.reason = reason
        self.kind = kind
    }

    public var description: String {
        "\(id.short) by \(author) seq \(seq): \(reason) [\(kind.rawValue)]"
    }
}

/// What `Replica.receive` did with an operation.
public enum ReceiveOutcome: Hashable, Sendable {
    /// Accepted into the graph, with every buffered operation it released, in acceptance order.
    case accepted([OperationID])
    /// Already known (accepted, buffered or on record): nothing changed.
    case duplicate
    /// Waiting in the bounded buffer for `missing` predecessors.
    case buffered(missing: Int)
    /// Refused. Attributable refusals are also on record in `Replica.rejections`.
    case rejected(GraphRejection)
}

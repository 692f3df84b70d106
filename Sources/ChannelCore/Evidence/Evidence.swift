/// Proof of misbehaviour that anyone holding the channel configuration can verify alone.
public enum Evidence: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Two signed operations by one author with the same `seq` and different ids.
    case equivocation(EquivocationEvidence)
    /// A signed operation that breaks a ledger rule given only its own causal past (an
    /// overdraft its author could see, a permission its role lacks), with that causal past.
    case invalidInCausalPast(InvalidOperationEvidence)
    /// A settlement proposal of a version at least two below a checkpoint the proposer signed
    /// (the k+2 rule: an honest party that raced one checkpoint is never caught).
    case staleProposal(StaleProposalEvidence)
    /// A signed operation that breaks its author's chain (its `seq` does not follow the own
    /// operation it cites, or it cites none or several), with every operation it cites.
    case brokenChain(BrokenChainEvidence)

    /// The participant the evidence is against.
    public var culprit: ParticipantIndex {
        switch self {
        case let .equivocation(evidence): return evidence.first.author
        case let .invalidInCausalPast(evidence): return evidence.op.author
        case let .staleProposal(evidence): return evidence.proposer
        case let .brokenChain(evidence): return evidence.op.author
        }
    }

    /// A short name of the kind of misbehaviour.
    public var kind: String {
        switch self {
        case .equivocation: return "equivocation"
        case .invalidInCausalPast: return "invalid-in-causal-past"
        case .staleProposal: return "stale-proposal"
        case .brokenChain: return "broken-chain"
        }
    }

    /// A fixed-size key that orders and identifies evidence.
    public var sortKey: (UInt8, Digest32, Digest32) {
        switch self {
        case let .equivocation(e): return (0, e.first.id, e.second.id)
        case let .invalidInCausalPast(e): return (1, e.op.id, .zero)
        case let .staleProposal(e): return (2, e.newer.digest, Digest32(w0: e.proposedVersion, w1: UInt64(e.proposer), w2: 0, w3: 0))
        case let .brokenChain(e): return (3, e.op.id, .zero)
        }
    }

    public static func < (lhs: Evidence, rhs: Evidence) -> Bool { lhs.sortKey < rhs.sortKey }

    public var description: String {
        switch self {
        case let .equivocation(e):
            return "equivocation by \(e.first.author) at seq \(e.first.seq): \(e.first.id.short) vs \(e.second.id.short)"
        case let .invalidInCausalPast(e):
            return "invalid in causal past by \(e.op.author) at seq \(e.op.seq): \(e.op.id.short) (\(e.past.count) ancestors)"
        case let .staleProposal(e):
            return "stale proposal by \(e.proposer): proposed version \(e.proposedVersion), signed version \(e.newer.version) after holding \(e.newer.previous)"
        case let .brokenChain(e):
            let own = e.preds.filter { $0.author == e.op.author }.map { "\($0.seq)" }
            return "broken chain by \(e.op.author) at seq \(e.op.seq): \(e.op.id.short) cites own seq [\(own.joined(separator: ", "))]"
        }
    }
}

/// An operation refused as invalid in its causal past, with every ancestor, so a verifier can
/// replay exactly what its author saw.
public struct InvalidOperationEvidence: Hashable, Sendable {
    public let op: SignedOperation
    /// The causal past of `op`, sorted by id.
    public let past: [SignedOperation]
    /// Most ancestors one piece of such evidence may carry.
    public static let pastOpsMax = 50_000

    public init(op: SignedOperation, past: [SignedOperation]) {
        self.op = op
        self.past = past.sorted { $0.id < $1.id }
    }
}

/// A proposer's signature on a checkpoint whose `previous` certificate is newer than what it
/// proposed. Honest participants sign only checkpoints whose `previous` they hold, so the
/// signature proves the proposer held a newer certificate than the one it proposed; an honest
/// proposer proposes the newest it holds and is never caught. The contract also checks, from
/// its own record, that `proposer` proposed `proposedVersion`.
public struct StaleProposalEvidence: Hashable, Sendable {
    public let proposer: ParticipantIndex
    public let proposedVersion: UInt64
    public let newer: Checkpoint
    public let signature: Signature

    public init(proposer: ParticipantIndex, proposedVersion: UInt64, newer: Checkpoint, signature: Signature) {
        self.proposer = proposer
        self.proposedVersion = proposedVersion
        self.newer = newer
        self.signature = signature
    }
}

/// An operation that breaks its author's chain, with every operation it cites. The author
/// signed the operation, and the operation commits to its predecessors' ids, which hash their
/// content (author and seq included), so the cited operations need no signature check: the
/// verifier sees exactly what the author cited. Honest nodes always cite their previous
/// operation and no other own one, so this is never against an honest participant.
public struct BrokenChainEvidence: Hashable, Sendable {
    public let op: SignedOperation
    /// Every operation `op` cites, in `op.preds` order (at most `WireLimits.predsMax`).
    public let preds: [SignedOperation]

    public init(op: SignedOperation, preds: [SignedOperation]) {
        self.op = op
        self.preds = preds.sorted { $0.id < $1.id }
    }

    /// Whether `op`'s seq and own predecessors follow the chain rule: seq 1 cites no own
    /// operation; seq k > 1 cites exactly one, of seq k − 1.
    static func followsChain(seq: UInt64, ownPredSeqs: [UInt64]) -> Bool {
        seq == 1 ? ownPredSeqs.isEmpty : seq > 1 && ownPredSeqs == [seq - 1]
    }
}

/// The two halves of an equivocation, in id order.
public struct EquivocationEvidence: Hashable, Sendable {
    public let first: SignedOperation
    public let second: SignedOperation

    /// Orders the pair by id so that every replica builds the same value.
    public init(_ a: SignedOperation, _ b: SignedOperation) {
        if a.id < b.id {
            first = a
            second = b
        } else {
            first = b
            second = a
        }
    }
}

/// Why evidence does not verify.
public enum EvidenceError: Error, Hashable, Sendable {
    case sameOperation
    case differentAuthors
    case differentSeq
    case wrongChannel
    case unknownAuthor(ParticipantIndex)
    case badSignature(OperationID)
    /// More ancestors than `InvalidOperationEvidence.pastOpsMax`.
    case tooLarge
    /// The ancestors given are not the operation's whole causal past (or include others).
    case incompleteCausalPast
    /// Replayed on its causal past, the operation is valid.
    case notInvalid
    /// The signed checkpoint does not name a certificate newer than the proposal.
    case notStale
    case badCheckpointSignature
    /// The cited operations given are not exactly the operation's predecessors.
    case predecessorsMismatch
    /// The operation follows its author's chain.
    case chainNotBroken
    /// An operation in the evidence could never be accepted (seq 0, an amount out of range,
    /// preds not strictly ascending): it proves nothing, and checking it further could trap.
    case malformedOperation(OperationID)
}

/// The one evidence verification function, used by replicas, the contract and the checkers.
public enum EvidenceVerifier {
    /// Refuses evidence carrying an operation that could never be accepted (built in memory,
    /// it never passed a decoder): hostile evidence must get a typed refusal, never a trap.
    private static func requireWellFormed(_ ops: [SignedOperation]) throws(EvidenceError) {
        for op in ops {
            do { try op.unsigned.validate() } catch { throw .malformedOperation(op.id) }
        }
    }

    /// Verifies `evidence` against the channel configuration and returns the culprit.
    /// - Complexity: two signature verifications.
    public static func verify(_ evidence: Evidence, config: ChannelConfig) throws(EvidenceError) -> ParticipantIndex {
        switch evidence {
        case let .equivocation(pair):
            let a = pair.first
            let b = pair.second
            try requireWellFormed([a, b])
            guard a.id != b.id else { throw .sameOperation }
            guard a.author == b.author else { throw .differentAuthors }
            guard a.seq == b.seq else { throw .differentSeq }
            guard a.channel == config.channel, b.channel == config.channel else { throw .wrongChannel }
            guard let author = config.participant(a.author) else { throw .unknownAuthor(a.author) }
            guard a.verifySignature(key: author.publicKey) else { throw .badSignature(a.id) }
            guard b.verifySignature(key: author.publicKey) else { throw .badSignature(b.id) }
            return a.author
        case let .invalidInCausalPast(e):
            guard e.past.count <= InvalidOperationEvidence.pastOpsMax else { throw .tooLarge }
            guard e.op.channel == config.channel, e.past.allSatisfy({ $0.channel == config.channel }) else { throw .wrongChannel }
            guard config.participant(e.op.author) != nil else { throw .unknownAuthor(e.op.author) }
            // Replay exactly the causal past with the replica's own rules (signatures checked).
            let replica = Replica(config: config, limits: ReplicaLimits(pendingOpsMax: e.past.count + 1, graphOpsMax: e.past.count + 1))
            for op in e.past + [e.op] {
                if case let .rejected(reason) = replica.receive(op), reason == .badSignature { throw .badSignature(op.id) }
            }
            guard replica.operationCount == e.past.count + 1, replica.heads == [e.op.id] else { throw .incompleteCausalPast }
            guard let record = replica.rejections.first(where: { $0.id == e.op.id }), record.kind == RejectionClass.invalidInCausalPast,
                case .ledger = record.reason
            else { throw .notInvalid }
            return e.op.author
        case let .brokenChain(e):
            try requireWellFormed([e.op] + e.preds)
            guard e.op.channel == config.channel else { throw .wrongChannel }
            guard let author = config.participant(e.op.author) else { throw .unknownAuthor(e.op.author) }
            guard e.op.verifySignature(key: author.publicKey) else { throw .badSignature(e.op.id) }
            // Ids hash content: the given operations are the cited ones only if they hash to
            // exactly the ids the author signed.
            guard e.preds.count == e.op.preds.count, e.preds.map(\.id) == e.op.preds else { throw .predecessorsMismatch }
            let own = e.preds.filter { $0.author == e.op.author }.map(\.seq)
            guard !BrokenChainEvidence.followsChain(seq: e.op.seq, ownPredSeqs: own) else { throw .chainNotBroken }
            return e.op.author
        case let .staleProposal(e):
            guard e.newer.channel == config.channel else { throw .wrongChannel }
            guard let proposer = config.participant(e.proposer) else { throw .unknownAuthor(e.proposer) }
            guard e.newer.previous > e.proposedVersion else { throw .notStale }
            guard proposer.publicKey.verify(e.signature, digest: e.newer.digest) else { throw .badCheckpointSignature }
            return e.proposer
        }
    }
}

/// Proof of misbehaviour that anyone holding the channel configuration can verify alone.
public enum Evidence: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Two signed operations by one author with the same `seq` and different ids.
    case equivocation(EquivocationEvidence)

    /// The participant the evidence is against.
    public var culprit: ParticipantIndex {
        switch self {
        case let .equivocation(evidence): return evidence.first.author
        }
    }

    public static func < (lhs: Evidence, rhs: Evidence) -> Bool {
        switch (lhs, rhs) {
        case let (.equivocation(a), .equivocation(b)): return (a.first.id, a.second.id) < (b.first.id, b.second.id)
        }
    }

    public var description: String {
        switch self {
        case let .equivocation(e):
            return "equivocation by \(e.first.author) at seq \(e.first.seq): \(e.first.id.short) vs \(e.second.id.short)"
        }
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
}

/// The one evidence verification function, used by replicas, the contract and the checkers.
public enum EvidenceVerifier {
    /// Verifies `evidence` against the channel configuration and returns the culprit.
    /// - Complexity: two signature verifications.
    public static func verify(_ evidence: Evidence, config: ChannelConfig) throws(EvidenceError) -> ParticipantIndex {
        switch evidence {
        case let .equivocation(pair):
            let a = pair.first
            let b = pair.second
            guard a.id != b.id else { throw .sameOperation }
            guard a.author == b.author else { throw .differentAuthors }
            guard a.seq == b.seq else { throw .differentSeq }
            guard a.channel == config.channel, b.channel == config.channel else { throw .wrongChannel }
            guard let author = config.participant(a.author) else { throw .unknownAuthor(a.author) }
            guard a.verifySignature(key: author.publicKey) else { throw .badSignature(a.id) }
            guard b.verifySignature(key: author.publicKey) else { throw .badSignature(b.id) }
            return a.author
        }
    }
}

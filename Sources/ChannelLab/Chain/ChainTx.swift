import ChannelCore

/// A call the chain makes on the settlement contract: a genesis or requested deposit, a bond,
/// or an included transaction with its sender and the block height.
public enum ContractCall: Sendable {
    case deposit(participant: ParticipantIndex, token: TokenID, amount: Amount)
    case bond(participant: ParticipantIndex, amount: Amount)
    case tx(ChainTx, from: Int, height: UInt64)
}

/// A transaction a participant sends to the simulated chain. It waits in the mempool until a
/// block includes it; then the chain executes it against the settlement contract.
public enum ChainTx: Sendable {
    /// Registers a threshold-signed checkpoint.
    case register(SignedCheckpoint)
    /// Proposes to settle on a checkpoint; the dispute window opens.
    case propose(SignedCheckpoint)
    /// Challenges the open proposal with a newer checkpoint.
    case challenge(SignedCheckpoint)
    /// Finalizes the proposal once the window has closed.
    case finalize
    /// Claims an account's payout against the finalized checkpoint.
    case claim(BalanceProof)
    /// Unilateral exit (force close) on a checkpoint: the dispute window opens on it.
    case exit(SignedCheckpoint)
    /// Slashes a bond on evidence.
    case slash(Evidence)
    /// Claims what the final checkpoint says `culprit` owes the sender in `token`.
    case compensate(token: TokenID, culprit: ParticipantIndex)

    /// A short name for traces and reports.
    public var kind: String {
        switch self {
        case .register: return "register"
        case .propose: return "propose"
        case .challenge: return "challenge"
        case .finalize: return "finalize"
        case .claim: return "claim"
        case .exit: return "exit"
        case .slash: return "slash"
        case .compensate: return "compensate"
        }
    }

    /// The checkpoint version a transaction carries, if any.
    public var version: UInt64? {
        switch self {
        case let .register(signed), let .propose(signed), let .challenge(signed), let .exit(signed): return signed.checkpoint.version
        default: return nil
        }
    }

    /// The culprit a compensation claim names.
    var culprit: Int? {
        if case let .compensate(_, culprit) = self { return Int(culprit) }
        return nil
    }

    /// Size on the wire, in bytes (an estimate that grows with signatures, heads and paths).
    var byteCount: Int {
        switch self {
        case let .register(signed), let .propose(signed), let .challenge(signed), let .exit(signed): return 16 + signed.byteCount
        case .finalize: return 16
        case let .claim(proof): return 16 + 80 + proof.path.count * 32
        case .slash: return 16 + 600
        case .compensate: return 16 + 8
        }
    }
}

extension SignedCheckpoint {
    /// Size on the wire, in bytes.
    var byteCount: Int { 32 + 8 + 32 + 8 + 12 + checkpoint.heads.count * 32 + checkpoint.compensations.count * 32 + signatures.count * (4 + 64) }
}

/// What the chain tells one participant after each block: the contract's phase and the
/// participant's own payouts. Nodes act on it level-triggered (a lost status is replaced by
/// the next), so an offline node catches up from the first status it hears.
public struct ChainStatus: Sendable {
    public let height: UInt64
    /// Version of the newest checkpoint the contract holds (0: none).
    public let latestVersion: UInt64
    /// The open proposal, who proposed it, and its deadline.
    public let proposal: SignedCheckpoint?
    public let proposer: ParticipantIndex?
    /// The version the proposer proposed (a challenge may since have replaced the checkpoint;
    /// stale-proposal evidence is about what was proposed).
    public let proposedVersion: UInt64?
    public let deadline: UInt64
    /// The finalized checkpoint.
    public let final: SignedCheckpoint?
    /// Tokens of the receiving participant already paid out.
    public let paidTokens: [TokenID]
    /// Participants already slashed.
    public let slashed: [ParticipantIndex]
    /// Compensation already paid to the receiving participant.
    public let compensated: [Compensation]

    var byteCount: Int { 64 + (proposal?.byteCount ?? 0) + (final?.byteCount ?? 0) + paidTokens.count * 4 + slashed.count * 4 + compensated.count * 24 }
}

/// One executed transaction, as the chain recorded it.
public struct ChainRecord: Sendable, Codable {
    public let height: UInt64
    public let timeMicros: UInt64
    public let from: Int
    public let kind: String
    public let version: UInt64?
    /// The account paid (claims).
    public let participant: Int?
    public let token: TokenID?
    /// Amount paid (claims) or slashed.
    public let amount: String?
    /// `nil` when executed, else the contract's refusal.
    public let refusal: String?
    /// When the sender submitted it, in simulated microseconds (inclusion delay = time - this).
    public let submittedMicros: UInt64
    /// The culprit a compensation claim names.
    public let culprit: Int?
}

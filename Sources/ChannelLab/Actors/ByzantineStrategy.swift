import ChannelCore

/// Kinds of invalid operation a Byzantine actor can send.
public enum InvalidKind: String, CaseIterable, Hashable, Sendable {
    /// A valid operation with one signature bit flipped: proves nothing, dropped.
    case badSignature = "bad-signature"
    /// A validly signed operation of another channel (a replay): dropped.
    case otherChannel = "other-channel"
    /// An operation by an author who is not a participant: dropped.
    case unknownAuthor = "unknown-author"
    /// A transfer of more than the author's causal past holds: slashable evidence.
    case overdraft
    /// A transfer by a participant whose role may not hold funds: slashable evidence.
    case permission
    /// Bytes that do not decode: dropped.
    case malformed
    /// An operation citing an own operation that is never sent: waits in the bounded buffer.
    case missingPredecessors = "missing-predecessors"
    /// An operation citing ids that do not exist: waits in the bounded buffer.
    case garbagePredecessors = "garbage-predecessors"
    /// A lock until one block past the height it cites, then at once an unlock of it citing the
    /// same height: refused as `lockNotExpired` (the edge, one block short): slashable evidence.
    case earlyUnlock = "early-unlock"
    /// An unlock of another participant's lock (`lockNotOwned`): slashable evidence. Without a
    /// lock of someone else in view, an early unlock instead.
    case foreignUnlock = "foreign-unlock"
    /// An operation that breaks one ledger rule its author can see, one rule per action in
    /// turn: a transfer of an unknown token, to an unknown participant, to itself, to an
    /// observer; a withdrawal and a lock of an unknown token; an unlock of a lock that does not
    /// exist; a deposit of an unknown token. Each is refused with its own reason, invalid in its
    /// causal past: evidence.
    case brokenRule = "broken-rule"
    /// A second deposit citing a receipt its own chain already used (a double credit of one
    /// lock on chain): refused as `receiptAlreadyUsed`, invalid in its causal past (its own
    /// first deposit is in it): slashable evidence.
    case reuseReceipt = "reuse-receipt"
    /// A fresh own operation in a non-canonical form, re-signed so that its signature holds:
    /// one of thirteen defects per action, in turn. Ten as bytes (unsorted or duplicate
    /// predecessors, trailing byte, version 2, amount 0 or 2^96, seq 0, 17 predecessors,
    /// unknown payload kind, truncated), every decoder must drop; three built in memory and
    /// sent decoded (seq 0, amount 0, amount 2^120), the replica's validation must drop.
    case nonCanonical = "non-canonical"
}

/// A small-scope mutation of an own outgoing operation (re-signed, so the signature is valid).
public enum Mutation: String, CaseIterable, Hashable, Sendable {
    case seqUp = "seq+1"
    case seqDown = "seq-1"
    case amountUp = "amount+1"
    case amountDown = "amount-1"
    case dropPredecessor = "drop-predecessor"
    /// Not a mutation but an edge: its next operation cites sixteen operations, the most the
    /// format allows (its previous one and fifteen others it holds). Valid: accepted
    /// everywhere, and its own chain goes on from it.
    case maxPreds = "max-preds"
}

/// What a Byzantine actor does (docs/byzantine.md lists each with the evidence it yields).
public enum ByzantineStrategy: Hashable, Sendable, CustomStringConvertible {
    /// Two transfers of everything it holds at one sequence number, one to each half of the peers.
    case equivocate
    /// A second full node instance with the same key (Twins): a copy of the node that talks to
    /// half of the peers and pays someone at every action while the original does too.
    case twin
    /// Invalid operations of one kind.
    case invalid(InvalidKind)
    /// Keeps its own operations back (no push, no sync answers) until `until`, then releases them.
    case withhold
    /// Goes offline (hears and sends nothing, keeps running) until `until`.
    case offline
    /// Refuses to sign checkpoints until `until`.
    case refuseSign
    /// Does not pass on others' operations until `until`.
    case censor
    /// Sends `count` junk items (undecodable bytes and operations citing garbage) to every peer.
    case flood(count: Int)
    /// Proposes settlement on the oldest checkpoint it holds.
    case staleProposal
    /// Restarts forgetting everything, its own chain included, then pays someone.
    case amnesia
    /// Sends a mutated copy of its next operation to half of the peers, the real one to the rest.
    case mutate(Mutation)
    /// Submits forged evidence against an honest participant (`target`) for slashing, one of
    /// eight forgeries per action in turn, mixing the target's genuine operations and
    /// signatures with forged parts.
    case frame
    /// Sends `finalize` as soon as a proposal appears (a correct contract refuses it).
    case hastyFinalize
    /// Challenges every proposal with the oldest certificate it holds.
    case challengeOldest
    /// Claims its payout again after being paid.
    case claimTwice
    /// As coordinator, asks for signatures on checkpoints that name a previous certificate one
    /// version below their own, which nobody holds: a signer that signed anyway could later be
    /// framed as a stale proposer by its own signature (honest signers refuse).
    case inflatePrevious
    /// After finalization, claims with forged variants of its own genuine balance proof: the
    /// leaf index one off, the tree size one off, the audit path one hash short, the balance one
    /// more, another participant's key on its own leaf fields (a correct contract refuses each
    /// as `badProof`).
    case forgeProofs
    /// Replays, relabelled to this channel, an operation the target signed in a sibling
    /// channel that has the same participants and keys: a fork of the target's newest
    /// operation paying the actor. Signatures bind the channel, so every replica refuses it as
    /// a bad signature; under the planted bug `sign-without-channel-id` it verifies and frames
    /// the honest target as an equivocator.
    case replay
    /// While a proposal is open: challenges with a checkpoint one version above the proposal
    /// that only the actor signed (below the threshold), with its newest certificate with one
    /// signature bit flipped, and registers its newest certificate again when the contract
    /// already holds that version (a correct contract refuses all three).
    case forgeChallenge
    /// A strategy an application brings (docs/apps/): a value registered by its YAML name
    /// in the application's folder (`LabApplication.strategies`).
    case application(ApplicationStrategyName)

    public var description: String {
        switch self {
        case .equivocate: return "equivocate"
        case .twin: return "twin"
        case let .invalid(kind): return "invalid \(kind.rawValue)"
        case .withhold: return "withhold"
        case .offline: return "offline"
        case .refuseSign: return "refuse-sign"
        case .censor: return "censor"
        case let .flood(count): return "flood x\(count)"
        case .staleProposal: return "stale-proposal"
        case .amnesia: return "amnesia"
        case let .mutate(mutation): return "mutate \(mutation.rawValue)"
        case .frame: return "frame"
        case .hastyFinalize: return "hasty-finalize"
        case .challengeOldest: return "challenge-oldest"
        case .claimTwice: return "claim-twice"
        case .forgeProofs: return "forge-proofs"
        case .inflatePrevious: return "inflate-previous"
        case .replay: return "replay"
        case .forgeChallenge: return "forge-challenge"
        case let .application(name): return name.description
        }
    }

    /// The lab's own strategies without parameters, by YAML name (`do: <name>`). With
    /// `invalid`, `flood` and `mutate` (which read a parameter) and every application's
    /// strategies, the names a script may use.
    static let plain: [ByzantineStrategy] = [
        .equivocate, .twin, .withhold, .offline, .refuseSign, .censor, .staleProposal, .amnesia, .frame, .hastyFinalize,
        .challengeOldest, .claimTwice, .forgeProofs, .inflatePrevious, .replay, .forgeChallenge,
    ]

    /// Every name `do:` accepts: the lab's own, then each application's.
    static var names: [String] {
        plain.map(\.description) + ["invalid", "flood", "mutate"] + LabApplications.strategyNames(invalidKinds: false).map(\.name)
    }

    /// The strategy a script's `do: <name>` names, when it takes no parameter: one of the
    /// lab's own, or an application's registered strategy.
    static func registered(_ name: String) -> ByzantineStrategy? {
        if let own = plain.first(where: { $0.description == name }) { return own }
        return LabApplications.strategyNames(invalidKinds: false).first { $0.name == name }.map { .application($0) }
    }

    /// Behaviours that stop at `until` (the chain-side ones last to the end of the run).
    var endsAtUntil: Bool {
        switch self {
        case .withhold, .offline, .refuseSign, .censor, .inflatePrevious: return true
        case .equivocate, .twin, .invalid, .flood, .staleProposal, .amnesia, .mutate, .frame, .hastyFinalize, .challengeOldest, .claimTwice,
            .forgeProofs, .replay, .forgeChallenge, .application:
            return false
        }
    }

    /// Strategies that hold from `from` to `until` rather than act at instants.
    var isBehaviour: Bool {
        switch self {
        case .withhold, .offline, .refuseSign, .censor, .hastyFinalize, .challengeOldest, .claimTwice, .forgeProofs, .inflatePrevious, .forgeChallenge: return true
        // An application's strategies act at instants.
        case .equivocate, .twin, .invalid, .flood, .staleProposal, .amnesia, .mutate, .frame, .replay, .application:
            return false
        }
    }
}

/// One Byzantine script: who, what, and when (once at `from`, or every `every` until `until`).
public struct ByzantineScript: Hashable, Sendable {
    public var participant: Int
    public var strategy: ByzantineStrategy
    public var from: SimInstant
    public var until: SimInstant
    public var every: SimDuration?
    /// Recipient of transfers the strategy makes (nil: the first other participant that can hold funds).
    public var target: Int?
}

/// A misbehaviour the lab performed that evidence must catch: (culprit, kind of evidence).
struct Attributable: Hashable, Comparable {
    let participant: Int
    let kind: String
    /// The operations that make it attributable: evidence can exist only once an honest node
    /// has them all (a half lost on the way proves nothing).
    var ops: [OperationID] = []

    /// A total order consistent with `==`: participant, kind, then the operations. (Ordering
    /// by participant and kind alone left ties between acts with different operations, which a
    /// sort then ordered by the per-process hash seed of the `Set` they came from.)
    /// Not a misbehaviour: a valid operation at a limit of the format, which every honest node
    /// must accept.
    static let validAtLimit = "valid-at-limit"

    static func < (lhs: Attributable, rhs: Attributable) -> Bool {
        if (lhs.participant, lhs.kind) != (rhs.participant, rhs.kind) { return (lhs.participant, lhs.kind) < (rhs.participant, rhs.kind) }
        return lhs.ops.lexicographicallyPrecedes(rhs.ops)
    }
}

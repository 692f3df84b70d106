import ChannelCore

/// What Byzantine scripts have switched on in one node: the one value the node consults about
/// misbehaviour, so that `ChannelNode` itself is the honest protocol and nothing else. An
/// honest node holds `NodeBehaviour()` for its whole life; a script's start switches its
/// part on and its end off (`set`), and strategies that act at instants go through
/// `ByzantineActor` instead.
struct NodeBehaviour: Sendable, Equatable {
    /// Whether a Byzantine script drives this node (its own operations may then be refused).
    var scripted = false
    /// Keeps its own operations back: no push, no sync answers with them (`withhold`).
    var withholding = false
    /// Does not pass on others' operations (`censor`).
    var censoring = false
    /// Signs no checkpoint at all, neither when asked nor in the rounds it coordinates; it
    /// still coordinates them (`refuse-sign`).
    var refusingToSign = false
    /// Chain-side misbehaviour (the same switches as the planted node bugs: hasty finalize,
    /// challenge with the oldest certificate, claim twice, forged proofs and challenges,
    /// inflated previous versions).
    var chainSide = LabBugs()

    /// Whether the node passes `op` on: a withholding node keeps its own back, a censoring
    /// node others'.
    func passesOn(author: ParticipantIndex, node: ParticipantIndex) -> Bool {
        author == node ? !withholding : !censoring
    }

    /// The chain-side switch a strategy holds while it runs, if it is one.
    private static func chainSwitch(_ strategy: ByzantineStrategy) -> LabBugs? {
        switch strategy {
        case .hastyFinalize: return .hastyFinalize
        case .challengeOldest: return .challengeWithOldest
        case .claimTwice: return .claimTwice
        case .forgeProofs: return .forgeProofs
        case .forgeChallenge: return .forgeChallenge
        case .inflatePrevious: return .inflatePrevious
        case .equivocate, .twin, .invalid, .withhold, .offline, .refuseSign, .censor, .flood, .staleProposal, .amnesia, .mutate,
            .frame, .replay, .application:
            return nil
        }
    }

    /// Switches on (at its script's start) or off (at its end) what `strategy` holds while it
    /// runs. Returns false, changing nothing, when the strategy is not a held behaviour of the
    /// node (it acts at instants, or is `offline`, which the network carries out).
    @discardableResult
    mutating func set(_ strategy: ByzantineStrategy, _ on: Bool) -> Bool {
        if let bit = Self.chainSwitch(strategy) {
            if on { chainSide.insert(bit) } else { chainSide.remove(bit) }
            return true
        }
        switch strategy {
        case .withhold: withholding = on
        case .refuseSign: refusingToSign = on
        case .censor: censoring = on
        case .equivocate, .twin, .invalid, .offline, .flood, .staleProposal, .amnesia, .mutate, .frame, .replay, .application, .hastyFinalize,
            .challengeOldest, .claimTwice, .forgeProofs, .inflatePrevious, .forgeChallenge:
            return false
        }
        return true
    }
}

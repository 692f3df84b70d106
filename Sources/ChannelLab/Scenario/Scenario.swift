import ChannelCore

/// A fault at a scheduled time (faults are data).
public enum Fault: Hashable, Sendable, CustomStringConvertible {
    /// Blocks all links between groups, both ways.
    case partition([[Int]])
    /// Blocks links from `from` to `to` only: an asymmetric partition.
    case oneWay(from: [Int], to: [Int])
    /// Removes every partition.
    case heal
    /// Crashes a node: memory lost, durable log kept.
    case crash(Int)
    /// Restarts a crashed node from its log.
    case restart(Int)
    /// Takes a node off the network (it keeps running and submitting).
    case offline(Int)
    /// Brings it back.
    case online(Int)
    /// Chain congestion: blocks include no transactions for this long.
    case congestion(SimDuration)

    public var description: String {
        switch self {
        case let .partition(groups): return "partition \(groups)"
        case let .oneWay(from, to): return "one-way partition \(from) -> \(to)"
        case .heal: return "heal"
        case let .crash(node): return "crash \(node)"
        case let .restart(node): return "restart \(node)"
        case let .offline(node): return "offline \(node)"
        case let .online(node): return "online \(node)"
        case let .congestion(duration): return "chain congestion for \(duration)"
        }
    }
}

/// A fault and when it strikes.
public struct ScheduledFault: Hashable, Sendable {
    public let at: SimInstant
    public let fault: Fault
}

/// An honest workload: participants issuing deposits, transfers and withdrawals.
public struct WorkloadSpec: Hashable, Sendable {
    public var participants: [Int]
    /// Operations per simulated second, per participant.
    public var ratePerSecond: UInt64
    public var transferWeight: UInt64
    public var depositWeight: UInt64
    public var withdrawWeight: UInt64
    /// Locks: funds moved to the author's locked balance until a chain height (far ahead, or,
    /// when the mix also unlocks, one to three blocks past the height the lock cites).
    public var lockWeight: UInt64 = 0
    /// Chain-time anchors: the author cites the newest height the chain signed for it.
    public var anchorWeight: UInt64 = 0
    /// Unlocks: the author releases an own lock that has expired at the height it cites.
    public var unlockWeight: UInt64 = 0

    /// Whether the workload cites chain time (the chain then sends anchors after every block).
    public var citesChainTime: Bool { anchorWeight > 0 || unlockWeight > 0 }
    public var amountMin: UInt64
    public var amountMax: UInt64
    /// Recipients; empty means any other participant that can hold funds.
    public var targets: [Int]
    public var token: TokenID
    public var from: SimInstant
    public var until: SimInstant
    /// Bursts: at a time, each participant submits `count` operations at once.
    public var bursts: [WorkloadBurst]
    /// An application's workload (a section named after the application): the participants
    /// then issue that application's operations only.
    public var application: ApplicationWorkload?
}

/// A burst of a workload: at `at`, each of its participants submits `count` operations at once.
public struct WorkloadBurst: Hashable, Sendable {
    public var at: SimInstant
    public var count: Int

    public init(at: SimInstant, count: Int) {
        self.at = at
        self.count = count
    }
}

/// Settlement duties and parameters (docs/settlement.md, "In the lab"). Without a
/// `settlement` section nodes make no checkpoints and nobody settles.
public struct SettlementSpec: Hashable, Sendable {
    /// How often a checkpoint round starts (the coordinator rotates per round); `nil`: only
    /// the final checkpoint at settlement.
    public var checkpointInterval: SimDuration?
    /// When settlement starts: nodes freeze, converge, sign a final checkpoint and the proposer
    /// proposes it. `nil`: nobody proposes.
    public var proposeAt: SimInstant?
    public var proposer: Int = 0
    /// Signatures a checkpoint needs.
    public var threshold: Int
    public var disputeWindowBlocks: UInt64 = 20
    /// Bond each participant locks at genesis (slashable).
    public var bond: UInt64 = 0
    /// How long the proposer tries for a final checkpoint before proposing the newest one it holds.
    public var finalRoundTimeout: SimDuration = .seconds(3)
    /// A node exits (a force close on its newest certificate) when no new checkpoint has been
    /// certified for this long and nothing is proposed; `nil`: nodes never exit.
    public var stallTimeout: SimDuration?
    /// Whether each certificate's coordinator also registers it on chain (then the contract
    /// itself refuses proposals older than the newest registered one).
    public var registerCheckpoints = false
    /// Blocks a transaction may wait for inclusion when the chain is not congested (the
    /// model's bound; congestion adds its own length).
    public var inclusionBlocksMax: UInt64 = 3
}

/// What a scenario expects of settlement.
public struct SettlementExpectation: Hashable, Sendable {
    /// Whether the channel must be finalized by the end.
    public var finalized: Bool?
    /// Whether some challenge must win.
    public var challengeWon: Bool?
    /// Exactly these participants' exits reached the chain (nil: not checked).
    public var exits: [Int]?
    /// Exactly these participants lose value at settlement (nil: not checked; a loss an honest
    /// node could have challenged is a `settlement-safety` violation anyway).
    public var honestLoss: [Int]?
}

/// What a scenario expects of its run.
public struct Expectations: Hashable, Sendable {
    /// Whether all nodes must converge in the liveness phase.
    public var converge = true
    /// Invariants expected to be violated (empty: none may be).
    public var violations: [String] = []
    /// Sometimes-assertions that must be reached.
    public var sometimes: [String] = []
    /// Settlement outcome (only with a `settlement` section).
    public var settlement = SettlementExpectation()
    /// The evidence (culprit, kind) honest nodes must hold by the end; nil: not checked.
    public var evidence: EvidenceExpectations?
    /// Exactly these participants slashed on chain by the end; nil: not checked.
    public var slashed: [Int]?
}

/// What evidence a scenario expects honest nodes to hold by the end.
public struct EvidenceExpectations: Hashable, Sendable {
    /// Evidence that must be held.
    public var includes: [EvidenceExpectation]
    /// Evidence that may be held besides `includes`; `nil`: anything else may be held.
    public var allows: [EvidenceExpectation]?

    /// Exactly `expected`, nothing else (the plain list in a file).
    public static func exactly(_ expected: [EvidenceExpectation]) -> EvidenceExpectations {
        EvidenceExpectations(includes: expected.sorted(), allows: [])
    }

    public init(includes: [EvidenceExpectation], allows: [EvidenceExpectation]?) {
        self.includes = includes.sorted()
        self.allows = allows?.sorted()
    }

    /// What is wrong with `seen`, described; `nil` when it meets the expectation.
    public func failure(seen: Set<EvidenceExpectation>) -> String? {
        let describe = { (items: [EvidenceExpectation]) in items.map { "\($0.kind) against \($0.against)" } }
        let missing = Set(includes).subtracting(seen).sorted()
        let unexpected = allows.map { seen.subtracting(includes).subtracting($0).sorted() } ?? []
        guard !missing.isEmpty || !unexpected.isEmpty else { return nil }
        if allows == [] { return "expected evidence \(describe(includes)), saw \(describe(seen.sorted()))" }
        var parts = [String]()
        if !missing.isEmpty { parts.append("missing evidence \(describe(missing))") }
        if !unexpected.isEmpty { parts.append("evidence not allowed \(describe(unexpected))") }
        return parts.joined(separator: "; ") + ", saw \(describe(seen.sorted()))"
    }
}

/// Evidence a scenario expects: against whom, of which kind.
public struct EvidenceExpectation: Hashable, Sendable, Comparable {
    public var against: Int
    public var kind: String

    /// - Parameters:
    ///   - against: the culprit's participant index.
    ///   - kind: `equivocation`, `invalid-in-causal-past` or `broken-chain` (`Evidence.kind`).
    public init(against: Int, kind: String) {
        self.against = against
        self.kind = kind
    }

    public static func < (lhs: EvidenceExpectation, rhs: EvidenceExpectation) -> Bool { (lhs.against, lhs.kind) < (rhs.against, rhs.kind) }
}

/// A complete, validated scenario: the channel, the network, faults, workloads, the run's
/// length and the expected outcome. Built by `ScenarioLoader` from YAML (docs/scenarios.md).
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var file: String
    public var seed: UInt64
    /// Length of the safety phase (workloads and faults); the liveness phase follows.
    public var duration: SimDuration
    public var participantCount: Int
    public var roles: [Int: Role]
    /// Deposit each participant makes at time 0, per token (0: none).
    public var initialDeposit: UInt64
    public var tokens: [TokenID]
    public var network: NetworkConfig
    public var node: NodeConfig
    public var blockInterval: SimDuration
    public var faults: [ScheduledFault]
    public var workloads: [WorkloadSpec]
    /// Longest the liveness phase may take to converge.
    public var livenessBound: SimDuration
    /// Checkpoints and settlement; `nil`: none.
    public var settlement: SettlementSpec?
    /// Byzantine scripts; participants without one are honest.
    public var byzantine: [ByzantineScript] = []
    /// The applications the channel enables beside the ledger (`applications:`), each with its
    /// configuration.
    public var applications: [any ApplicationConfig] = []

    /// Participants a script makes Byzantine.
    public var byzantineParticipants: Set<Int> { Set(byzantine.map(\.participant)) }
    public var expect: Expectations

    /// Most participants in a scenario.
    public static let participantsMax = 1000
    /// Most operations the workloads of one scenario may issue (bursts plus rate × duration).
    public static let burstOpsMax = 2_000_000
    /// Longest safety phase.
    public static let durationMax = SimDuration.seconds(3600)

    public func role(_ index: Int) -> Role { roles[index] ?? .trader }
}

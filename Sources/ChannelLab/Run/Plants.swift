import ChannelCore

/// Deliberate bugs in the lab's own nodes (the replica's are `PlantedBugs`), used to show
/// that each checker catches what it exists for. All off by default.
public struct LabBugs: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// An honest node spends more than its causal past holds (an overdraft its author knew).
    public static let nodeOverspends = LabBugs(rawValue: 1 << 0)
    /// Nodes never run anti-entropy or fetch missing predecessors: lost messages stay lost.
    public static let noAntiEntropy = LabBugs(rawValue: 1 << 1)
    /// The chain signs deposit receipts without locking the funds in the contract.
    public static let unbackedReceipts = LabBugs(rawValue: 1 << 2)
    /// Nodes challenge every proposal with the oldest certificate they ever held.
    public static let challengeWithOldest = LabBugs(rawValue: 1 << 3)
    /// Nodes never exit, however long the channel stalls.
    public static let neverExit = LabBugs(rawValue: 1 << 4)
    /// Nodes never send `finalize`.
    public static let neverFinalize = LabBugs(rawValue: 1 << 5)
    /// Nodes claim their payout once more after being paid. Not a plant (a correct contract
    /// refuses the claim, so nothing breaks): the Byzantine strategy `claim-twice` uses it.
    public static let claimTwice = LabBugs(rawValue: 1 << 6)
    /// Nodes send `finalize` as soon as a proposal appears. Not a plant (a correct contract
    /// refuses it): the Byzantine strategy `hasty-finalize` uses it.
    public static let hastyFinalize = LabBugs(rawValue: 1 << 7)
    /// Nodes never submit the evidence they hold for slashing.
    public static let neverSlash = LabBugs(rawValue: 1 << 8)
    /// Nodes claim with forged variants of their own balance proofs. Not a plant (a correct
    /// contract refuses each): the Byzantine strategy `forge-proofs` uses it.
    public static let forgeProofs = LabBugs(rawValue: 1 << 9)
    /// Coordinators name a previous certificate nobody holds. Not a plant (honest signers refuse
    /// such rounds): the Byzantine strategy `inflate-previous` uses it.
    public static let inflatePrevious = LabBugs(rawValue: 1 << 10)
    /// While a proposal is open, nodes challenge with forged certificates (signed by too few,
    /// or with a signature bit flipped) and register their certificate again at the version
    /// the contract holds. Not a plant (a correct contract refuses each): the Byzantine
    /// strategy `forge-challenge` uses it.
    public static let forgeChallenge = LabBugs(rawValue: 1 << 11)
}

/// Every plantable bug by name, for `--plant NAME`.
public enum Plants {
    public static let named: [(name: String, core: PlantedBugs, contract: ContractBugs, lab: LabBugs, what: String)] =
        PlantedBugs.named.map { ($0.name, $0.bug, ContractBugs(), LabBugs(), coreDescription($0.name)) }
        + ContractBugs.named.map { ($0.name, PlantedBugs(), $0.bug, LabBugs(), $0.what) } + [
            ("node-overspends", PlantedBugs(), ContractBugs(), .nodeOverspends, "honest nodes spend more than their causal past holds"),
            ("no-anti-entropy", PlantedBugs(), ContractBugs(), .noAntiEntropy, "nodes never sync or fetch missing predecessors"),
            ("unbacked-receipts", PlantedBugs(), ContractBugs(), .unbackedReceipts, "the chain signs deposit receipts without locking the funds"),
            ("challenge-with-oldest", PlantedBugs(), ContractBugs(), .challengeWithOldest, "nodes challenge every proposal with the oldest certificate they held"),
            ("never-exit", PlantedBugs(), ContractBugs(), .neverExit, "nodes never exit, however long the channel stalls"),
            ("never-finalize", PlantedBugs(), ContractBugs(), .neverFinalize, "nodes never send finalize"),
            ("never-slash", PlantedBugs(), ContractBugs(), .neverSlash, "nodes never submit the evidence they hold for slashing"),
        ]

    /// The bugs a list of plant names switches in (unknown names are ignored; the command
    /// line refuses them before).
    public static func bugs(named names: [String]) -> (PlantedBugs, ContractBugs, LabBugs) {
        var core = PlantedBugs()
        var contract = ContractBugs()
        var lab = LabBugs()
        for name in names {
            guard let entry = named.first(where: { $0.name == name }) else { continue }
            core.formUnion(entry.core)
            contract.formUnion(entry.contract)
            lab.formUnion(entry.lab)
        }
        return (core, contract, lab)
    }

    /// The names of the plants switched in by these bug sets (the inverse of `bugs(named:)`).
    public static func names(core: PlantedBugs, contract: ContractBugs, lab: LabBugs) -> [String] {
        named.filter { entry in
            (!entry.core.isEmpty || !entry.contract.isEmpty || !entry.lab.isEmpty)
                && core.isSuperset(of: entry.core) && contract.isSuperset(of: entry.contract) && lab.isSuperset(of: entry.lab)
        }.map(\.name)
    }

    private static func coreDescription(_ name: String) -> String {
        switch name {
        case "merge-in-arrival-order": return "the replica applies operations in arrival order, not (depth, id)"
        case "skip-balance-check": return "the ledger does not check balances before debits"
        case "credit-without-debit": return "a transfer credits the recipient without debiting the sender"
        case "drop-equivocations": return "the replica drops the second half of an equivocation"
        case "accept-unknown-predecessors": return "the replica accepts operations whose predecessors it does not have"
        case "count-locked-twice": return "a lock adds twice its amount to the locked balance"
        case "sign-without-channel-id": return "operation signatures leave the channel id out of the signed digest (cross-channel replays verify)"
        case "lose-evidence-on-restart": return "a replica rebuilt from the log after a crash forgets the evidence it had seen"
        default:
            // An application's plant: its registered summary.
            return ApplicationRegistry.all.lazy.flatMap { $0.plants }.first { $0.name == name }?.summary ?? name
        }
    }
}

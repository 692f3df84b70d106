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
}

/// Every plantable bug by name, for `--plant NAME`.
public enum Plants {
    public static let named: [(name: String, core: PlantedBugs, lab: LabBugs, what: String)] =
        PlantedBugs.named.map { ($0.name, $0.bug, LabBugs(), coreDescription($0.name)) } + [
            ("node-overspends", PlantedBugs(), .nodeOverspends, "honest nodes spend more than their causal past holds"),
            ("no-anti-entropy", PlantedBugs(), .noAntiEntropy, "nodes never sync or fetch missing predecessors"),
            ("unbacked-receipts", PlantedBugs(), .unbackedReceipts, "the chain signs deposit receipts without locking the funds"),
        ]

    private static func coreDescription(_ name: String) -> String {
        switch name {
        case "merge-in-arrival-order": return "the replica applies operations in arrival order, not (depth, id)"
        case "skip-balance-check": return "the ledger does not check balances before debits"
        case "credit-without-debit": return "a transfer credits the recipient without debiting the sender"
        case "drop-equivocations": return "the replica drops the second half of an equivocation"
        default: return name
        }
    }
}

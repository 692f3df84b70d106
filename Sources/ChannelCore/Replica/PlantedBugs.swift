/// Deliberate bugs that can be switched into the system under test, so that the lab's
/// properties and checkers are shown to catch them. All off by default; when off, each costs
/// one bit test on its path.
public struct PlantedBugs: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Apply operations in the order they arrive instead of the total order `(depth, id)`.
    public static let mergeInArrivalOrder = PlantedBugs(rawValue: 1 << 0)
    /// Do not check the balance before a debit (overdrafts apply and go negative).
    public static let skipBalanceCheck = PlantedBugs(rawValue: 1 << 1)
    /// Credit the recipient of a transfer without debiting the sender.
    public static let creditWithoutDebit = PlantedBugs(rawValue: 1 << 2)
    /// Forget the second operation of an equivocation instead of keeping both.
    public static let dropEquivocations = PlantedBugs(rawValue: 1 << 3)
    /// Accept an operation whose predecessors are not all known yet, instead of buffering it.
    public static let acceptUnknownPredecessors = PlantedBugs(rawValue: 1 << 4)
    /// Lose evidence (equivocations, broken chains) when a replica is rebuilt from the durable log.
    public static let loseEvidenceOnRestart = PlantedBugs(rawValue: 1 << 5)
    /// Count a lock's amount twice in the locked balance.
    public static let countLockedTwice = PlantedBugs(rawValue: 1 << 6)
    /// Sign and verify operations without the channel id in the signed digest, so that an
    /// operation signed in another channel with the same keys verifies here when relabelled.
    public static let signWithoutChannelID = PlantedBugs(rawValue: 1 << 7)

    /// Name, in a `predecessorRejected` record, the rejected predecessor whose refusal arrived
    /// first instead of the smallest one: the rule before an independent implementation showed
    /// that two replicas then keep different records for the same operations. Reachable only
    /// through a fan-in of refused operations that no Byzantine strategy sends yet, so it is not
    /// in `named`; the replica's property tests show that they catch it.
    public static let nameArrivalOrderPredecessor = PlantedBugs(rawValue: 1 << 8)

    /// What operation signatures cover with these bugs switched in.
    public var signatureScope: SignatureScope { contains(.signWithoutChannelID) ? .channelOmitted : .channelBound }

    /// Every planted bug with its name, for listings and command-line flags: the channel's
    /// own, then each application's (`ChannelApplication.plants`).
    public static var named: [(name: String, bug: PlantedBugs)] {
        channel + ApplicationRegistry.all.flatMap { app in app.plants.map { ($0.name, $0.bug) } }
    }

    /// Bits from here up are the applications' (`ChannelApplication.plants`; each takes its
    /// own, distinct from every other's).
    public static let applicationBitsFrom = 9

    /// The channel's own planted bugs with their names.
    static let channel: [(name: String, bug: PlantedBugs)] = [
        ("merge-in-arrival-order", .mergeInArrivalOrder),
        ("skip-balance-check", .skipBalanceCheck),
        ("credit-without-debit", .creditWithoutDebit),
        ("drop-equivocations", .dropEquivocations),
        ("accept-unknown-predecessors", .acceptUnknownPredecessors),
        ("lose-evidence-on-restart", .loseEvidenceOnRestart),
        ("count-locked-twice", .countLockedTwice),
        ("sign-without-channel-id", .signWithoutChannelID),
    ]
}

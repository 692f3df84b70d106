/// The whole state of a channel at one point of the total order: the balance ledger (the
/// first application, which holds the accounts) and the state of every application the
/// channel enables, with one undo journal across all of them (the ledger's, in which an
/// application's undo record is one entry) and one state root over all their leaves.
public struct ChannelState: Sendable {
    /// The accounts: deposits, transfers, withdrawals, locks, and the value applications hold.
    public internal(set) var accounts: BalanceLedger
    /// The enabled applications' states, in `ChannelConfig.applications` order.
    public internal(set) var applications: [any ApplicationState]

    /// An empty state of `config`'s channel.
    /// - Parameter journaling: record undo entries so that `revert(toJournalCount:)` works.
    public init(config: ChannelConfig, journaling: Bool = false) {
        accounts = BalanceLedger(journaling: journaling)
        applications = config.applications.map { setup in
            var state = setup.makeState()
            state.setJournaling(journaling)
            return state
        }
    }

    /// Entries in the undo journal.
    var journalCount: Int { accounts.journalCount }

    /// Reverts every change recorded after the journal held `count` entries.
    mutating func revert(toJournalCount count: Int) {
        if applications.isEmpty {
            accounts.revert(toJournalCount: count)
            return
        }
        var apps = applications
        applications = []
        accounts.revert(toJournalCount: count) { index in apps[index].undoLast() }
        applications = apps
    }

    /// Forgets the oldest `count` journal entries.
    mutating func trimJournal(first count: Int) {
        for (index, records) in accounts.trimJournal(first: count) { applications[index].forgetOldest(records) }
    }

    /// Applies `op` at its place in the total order or explains why not. A refused operation
    /// has no effect of its own; an application may still do the housekeeping due at that
    /// place (a batch round that ends clears), which any operation there would do. Ledger
    /// payloads go to the balance ledger, an application's to the enabled application owning
    /// its kind.
    public mutating func apply(_ op: SignedOperation, context: ApplyContext, config: ChannelConfig, bugs: PlantedBugs) -> LedgerRejection? {
        guard case let .application(payload) = op.payload else {
            return accounts.apply(op, context: context, config: config, bugs: bugs)
        }
        guard let index = applications.firstIndex(where: { $0.kinds.contains(payload.kind) }) else {
            return .applicationNotEnabled(kind: payload.kind)
        }
        // Move the ledger into the accounts view (no copy of its storage), and back.
        var view = ApplicationAccounts(ledger: BalanceLedger(), author: op.author)
        swap(&view.ledger, &accounts)
        let recordsBefore = applications[index].undoRecords
        let rejection = applications[index].apply(op, payload, context: context, config: config, accounts: &view, bugs: bugs)
        swap(&view.ledger, &accounts)
        let pushed = applications[index].undoRecords - recordsBefore
        precondition(pushed >= 0, "undo records only grow while applying")
        for _ in 0..<pushed { accounts.noteApplicationUndo(index) }
        return rejection.map { .application($0) }
    }

    /// The Merkle leaves of the whole state: the ledger's, then each application's in
    /// configuration order (docs/wire-format.md, "State root").
    public func stateLeaves() -> [[UInt8]] {
        var leaves = accounts.stateLeaves().leaves
        for app in applications { leaves.append(contentsOf: app.stateLeaves()) }
        return leaves
    }

    /// A cheap fingerprint of the whole state (equal states, equal fingerprints).
    public var fingerprint: UInt128 {
        applications.reduce(accounts.fingerprint) { $0 &+ $1.fingerprint }
    }

    /// Per token, Σ over the applications of what their own records say they hold.
    public var applicationPools: [TokenID: Int128] {
        var out = [TokenID: Int128]()
        for app in applications {
            for (token, value) in app.pooled() { out[token, default: 0] += value }
        }
        return out
    }

    /// The state of the application named `name`, if the channel enables it.
    public func application(named name: String) -> (any ApplicationState)? {
        applications.first { $0.name == name }
    }
}

/// The state at a given set of heads, for checkpoint signing: an honest participant signs a
/// checkpoint only when it matches its own replica's state at exactly those heads.
extension Replica {
    /// The state root and leaf count of the ledger after applying, in the total order, every
    /// accepted operation in the causal closure of `heads`; `nil` when a head is not accepted.
    /// - Complexity: O(c log c) for a closure of c operations; the walk is iterative.
    public func stateAt(heads: [OperationID]) -> (root: Digest32, treeSize: UInt64)? {
        guard let state = state(at: heads) else { return nil }
        return Self.commitment(of: state)
    }

    /// The ledger after every accepted operation in the causal closure of `heads` (the
    /// current ledger when they are this replica's heads); `nil` when a head is not accepted.
    public func ledger(at heads: [OperationID]) -> BalanceLedger? { state(at: heads)?.accounts }

    /// The whole state (ledger and applications) after every accepted operation in the causal
    /// closure of `heads`; `nil` when a head is not accepted.
    public func state(at heads: [OperationID]) -> ChannelState? {
        for head in heads where slots[head] == nil { return nil }
        if heads.sorted() == self.heads { return ledger }
        return state(applyingClosureOf: heads)
    }

    /// A Merkle proof of one account's leaf in the state a checkpoint commits to, or `nil`
    /// when this replica does not match the checkpoint or the account is not in it.
    public func balanceProof(_ participant: ParticipantIndex, _ token: TokenID, at checkpoint: Checkpoint) -> BalanceProof? {
        guard checkpoint.channel == config.channel, let state = state(at: checkpoint.heads) else { return nil }
        let ledger = state.accounts
        let key = AccountKey(participant: participant, token: token)
        let accountKeys = ledger.stateLeaves().accounts
        let leaves = state.stateLeaves()
        let hashes = leaves.map(Merkle.leafHash)
        guard Merkle.root(leafHashes: hashes) == checkpoint.stateRoot, UInt64(hashes.count) == checkpoint.treeSize,
            let index = accountKeys.firstIndex(of: key)
        else { return nil }
        return BalanceProof(
            key: key, account: ledger.account(participant, token), leafIndex: UInt64(index),
            treeSize: UInt64(hashes.count), path: Merkle.inclusionPath(leafHashes: hashes, index: index))
    }

    /// A fresh ledger after applying, in the total order, every accepted operation in the
    /// causal closure of `roots` (all accepted). Used to judge an operation against its causal
    /// past and to recompute the state at a checkpoint's heads.
    /// - Complexity: O(c log c) for a closure of c operations; the walk is iterative.
    func state(applyingClosureOf roots: [OperationID]) -> ChannelState {
        var visited = Set<OperationID>()
        var stack = roots
        while let id = stack.popLast() {
            guard visited.insert(id).inserted else { continue }
            stack.append(contentsOf: node(id)!.op.preds)
        }
        var view = ChannelState(config: config)
        for key in visited.map({ node($0)!.key }).sorted() {
            let entry = store[Int(key.slot)]
            _ = view.apply(entry.op, context: entry.context, config: config, bugs: bugs)
        }
        return view
    }

    /// The Merkle root and leaf count of a state.
    static func commitment(of state: ChannelState) -> (root: Digest32, treeSize: UInt64) {
        let leaves = state.stateLeaves()
        return (Merkle.root(leafHashes: leaves.map(Merkle.leafHash)), UInt64(leaves.count))
    }

    /// The checkpoint of this replica's current state at `version`.
    public func checkpoint(version: UInt64, previous: UInt64 = 0, final: Bool = false) -> Checkpoint {
        let (root, size) = Self.commitment(of: ledger)
        return Checkpoint(
            channel: config.channel, version: version, stateRoot: root, treeSize: size, heads: heads, previous: previous,
            compensations: final ? compensations : [])
    }

    /// What equivocators owe: per (victim, token, culprit), the credits from an author with
    /// equivocation evidence to another participant that the ledger refused as concurrent
    /// conflicts (the losing halves of double spends), in this replica's current state.
    public var compensations: [Compensation] {
        let culprits = Set(equivocations.values.map(\.first.author))
        guard !culprits.isEmpty else { return [] }
        var owed = [Compensation: Amount]()
        for (id, _) in ledgerRejected where failsInCausalPast[id] == false {
            let op = node(id)!.op
            guard culprits.contains(op.author), case let .transfer(to, token, amount) = op.payload, to != op.author else { continue }
            owed[Compensation(victim: to, token: token, culprit: op.author, amount: 0), default: 0] += amount
        }
        return owed.map { Compensation(victim: $0.key.victim, token: $0.key.token, culprit: $0.key.culprit, amount: $0.value) }.sorted()
            .prefix(Checkpoint.compensationsMax).map { $0 }
    }

    /// Whether an honest participant may sign `checkpoint`: same channel, every head accepted
    /// here, and this replica's state at those heads has the checkpoint's root and size.
    public func matches(_ checkpoint: Checkpoint) -> Bool {
        guard checkpoint.channel == config.channel, let state = stateAt(heads: checkpoint.heads) else { return false }
        return state.root == checkpoint.stateRoot && state.treeSize == checkpoint.treeSize
    }
}

/// The state at a checkpoint's heads, kept so that the next, larger checkpoint is checked
/// incrementally: the operations it adds are merged into the ordered tail with the ledger's
/// undo journal (as the replica merges), instead of replaying the whole causal closure.
public struct CheckpointCursor: Sendable {
    /// The sorted heads this state is at.
    public internal(set) var heads: [OperationID]
    /// The causal closure of `heads`.
    public internal(set) var closure: Set<OperationID>
    /// The closure in the total order, with the undo marks of `state`.
    var journal: OrderedJournal
    /// The state after the closure, applied in the total order (journaling).
    public internal(set) var state: ChannelState
    /// The ledger of `state`.
    public var ledger: BalanceLedger { state.accounts }
    /// Whether this cursor was built by extending the previous one (false: a full replay).
    public internal(set) var extended: Bool
    /// Operations whose application can still be undone; an insertion further back replays.
    public static let undoOpsMax = 65_536

    /// The Merkle root and leaf count of `ledger`.
    public var commitment: (root: Digest32, treeSize: UInt64) { Replica.commitment(of: state) }

    init(heads: [OperationID], config: ChannelConfig) {
        self.heads = heads
        closure = []
        journal = OrderedJournal(undoOpsMax: CheckpointCursor.undoOpsMax)
        state = ChannelState(config: config, journaling: true)
        extended = false
    }
}

extension Replica {
    /// The state at `heads` as a cursor, extended from `previous` when the closure of `heads`
    /// contains the previous closure (the added operations are merged into its ordered tail by
    /// undo and replay), else built by a full replay; `nil` when a head is not accepted here.
    /// Pass `previous` uniquely (moved out of its owner) so it is extended in place.
    /// - Complexity: O(a log a + t) for a added operations and a replayed tail of t when
    ///   extending; O(c log c) for a closure of c operations otherwise.
    public func cursor(at heads: [OperationID], from previous: consuming CheckpointCursor?) -> CheckpointCursor? {
        for head in heads where slots[head] == nil { return nil }
        let sortedHeads = heads.sorted()
        if var base = previous.take() {
            let baseHeads = Set(base.heads)
            var added = Set<OperationID>()
            var reached = Set<OperationID>()
            var stack = sortedHeads
            while let id = stack.popLast() {
                if base.closure.contains(id) {
                    if baseHeads.contains(id) { reached.insert(id) }
                    continue
                }
                guard added.insert(id).inserted else { continue }
                stack.append(contentsOf: node(id)!.op.preds)
            }
            let keys = added.map { node($0)!.key }.sorted()
            let position = keys.first.map { base.journal.lowerBound($0) } ?? base.journal.count
            if reached.count == baseHeads.count {
                // Every added operation merges into the ordered tail, unless the earliest is
                // older than the undo horizon (then a full replay below).
                var extendable = true
                if !keys.isEmpty {
                    if let tail = base.journal.rollback(to: position, merging: keys, state: &base.state) {
                        for key in tail { apply(key, to: &base) }
                        base.closure.formUnion(added)
                    } else {
                        extendable = false
                    }
                }
                if extendable {
                    base.heads = sortedHeads
                    base.extended = true
                    return base
                }
            }
        }
        var cursor = CheckpointCursor(heads: sortedHeads, config: config)
        var stack = sortedHeads
        while let id = stack.popLast() {
            guard cursor.closure.insert(id).inserted else { continue }
            stack.append(contentsOf: node(id)!.op.preds)
        }
        for key in cursor.closure.map({ node($0)!.key }).sorted() { apply(key, to: &cursor) }
        return cursor
    }

    private func apply(_ key: OrderKey, to cursor: inout CheckpointCursor) {
        cursor.journal.append(key, journalCount: cursor.state.journalCount)
        let entry = store[Int(key.slot)]
        _ = cursor.state.apply(entry.op, context: entry.context, config: config, bugs: bugs)
        cursor.journal.trim(state: &cursor.state)
    }
}

/// The state at a given set of heads, for checkpoint signing: an honest participant signs a
/// checkpoint only when it matches its own replica's state at exactly those heads.
extension Replica {
    /// The state root and leaf count of the ledger after applying, in the total order, every
    /// accepted operation in the causal closure of `heads`; `nil` when a head is not accepted.
    /// - Complexity: O(c log c) for a closure of c operations; the walk is iterative.
    public func stateAt(heads: [OperationID]) -> (root: Digest32, treeSize: UInt64)? {
        guard let ledger = ledger(at: heads) else { return nil }
        return Self.commitment(of: ledger)
    }

    /// The ledger after every accepted operation in the causal closure of `heads` (the
    /// current ledger when they are this replica's heads); `nil` when a head is not accepted.
    public func ledger(at heads: [OperationID]) -> BalanceLedger? {
        for head in heads where slots[head] == nil { return nil }
        if heads.sorted() == self.heads { return balances }
        return ledger(applyingClosureOf: heads)
    }

    /// A Merkle proof of one account's leaf in the state a checkpoint commits to, or `nil`
    /// when this replica does not match the checkpoint or the account is not in it.
    public func balanceProof(_ participant: ParticipantIndex, _ token: TokenID, at checkpoint: Checkpoint) -> BalanceProof? {
        guard checkpoint.channel == config.channel, let ledger = ledger(at: checkpoint.heads) else { return nil }
        let key = AccountKey(participant: participant, token: token)
        let (accountKeys, leaves) = ledger.stateLeaves()
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
    func ledger(applyingClosureOf roots: [OperationID]) -> BalanceLedger {
        var visited = Set<OperationID>()
        var stack = roots
        while let id = stack.popLast() {
            guard visited.insert(id).inserted else { continue }
            stack.append(contentsOf: node(id)!.op.preds)
        }
        var view = BalanceLedger()
        for key in visited.map({ node($0)!.key }).sorted() {
            let entry = store[Int(key.slot)]
            _ = view.apply(entry.op, context: entry.context, config: config, bugs: bugs)
        }
        return view
    }

    /// The Merkle root and leaf count of a ledger's state.
    static func commitment(of ledger: BalanceLedger) -> (root: Digest32, treeSize: UInt64) {
        let leaves = ledger.stateLeaves().leaves
        return (Merkle.root(leafHashes: leaves.map(Merkle.leafHash)), UInt64(leaves.count))
    }

    /// The checkpoint of this replica's current state at `version`.
    public func checkpoint(version: UInt64) -> Checkpoint {
        let (root, size) = Self.commitment(of: balances)
        return Checkpoint(channel: config.channel, version: version, stateRoot: root, treeSize: size, heads: heads)
    }

    /// Whether an honest participant may sign `checkpoint`: same channel, every head accepted
    /// here, and this replica's state at those heads has the checkpoint's root and size.
    public func matches(_ checkpoint: Checkpoint) -> Bool {
        guard checkpoint.channel == config.channel, let state = stateAt(heads: checkpoint.heads) else { return false }
        return state.root == checkpoint.stateRoot && state.treeSize == checkpoint.treeSize
    }
}

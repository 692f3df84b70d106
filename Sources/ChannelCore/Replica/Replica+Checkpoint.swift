/// The state at a given set of heads, for checkpoint signing: an honest participant signs a
/// checkpoint only when it matches its own replica's state at exactly those heads.
extension Replica {
    /// The state root and leaf count of the ledger after applying, in the total order, every
    /// accepted operation in the causal closure of `heads`; `nil` when a head is not accepted.
    /// - Complexity: O(c log c) for a closure of c operations; the walk is iterative.
    public func stateAt(heads: [OperationID]) -> (root: Digest32, treeSize: UInt64)? {
        var visited = Set<OperationID>()
        var stack = [OperationID]()
        for head in heads {
            guard slots[head] != nil else { return nil }
            stack.append(head)
        }
        while let id = stack.popLast() {
            guard visited.insert(id).inserted else { continue }
            stack.append(contentsOf: node(id)!.op.preds)
        }
        var view = BalanceLedger()
        for key in visited.map({ node($0)!.key }).sorted() {
            let entry = store[Int(key.slot)]
            _ = view.apply(entry.op, context: entry.context, config: config, bugs: bugs)
        }
        let leaves = view.stateLeaves().leaves
        return (Merkle.root(leafHashes: leaves.map(Merkle.leafHash)), UInt64(leaves.count))
    }

    /// The checkpoint of this replica's current state at `version`.
    public func checkpoint(version: UInt64) -> Checkpoint {
        let leaves = balances.stateLeaves().leaves
        return Checkpoint(
            channel: config.channel, version: version, stateRoot: Merkle.root(leafHashes: leaves.map(Merkle.leafHash)),
            treeSize: UInt64(leaves.count), heads: heads)
    }

    /// Whether an honest participant may sign `checkpoint`: same channel, every head accepted
    /// here, and this replica's state at those heads has the checkpoint's root and size.
    public func matches(_ checkpoint: Checkpoint) -> Bool {
        guard checkpoint.channel == config.channel, let state = stateAt(heads: checkpoint.heads) else { return false }
        return state.root == checkpoint.stateRoot && state.treeSize == checkpoint.treeSize
    }
}

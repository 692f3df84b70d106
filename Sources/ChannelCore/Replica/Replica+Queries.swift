/// Read-only views of a replica. Every list is sorted, so nothing depends on the iteration
/// order of a `Dictionary` or `Set`.
extension Replica {
    /// The accepted operation `id` with what the graph derived about it.
    func node(_ id: OperationID) -> GraphNode? {
        slots[id].map { store[Int($0)] }
    }

    /// Accepted operations.
    public var operationCount: Int { store.count }

    /// Operations waiting for predecessors.
    public var pendingCount: Int { pending.count }

    /// Ids of accepted operations that no accepted operation cites, sorted.
    /// - Complexity: O(h log h) after a change, O(1) otherwise (the sorted list is cached).
    public var heads: [OperationID] {
        if let cached = headsCache { return cached }
        let sorted = headSet.sorted()
        headsCache = sorted
        return sorted
    }

    /// A 128-bit fingerprint of the set of heads, kept incrementally: equal head sets have equal
    /// fingerprints, at O(1) per read. A cheap witness for checkers, not a commitment.
    public var headsFingerprint: UInt128 { headsMix }

    /// Whether `id` is accepted, buffered or refused on record (receiving it again changes
    /// nothing).
    public func knows(_ id: OperationID) -> Bool {
        slots.index(forKey: id) != nil || pending.index(forKey: id) != nil || graphRejected.index(forKey: id) != nil
    }

    /// Whether `id` is accepted.
    public func contains(_ id: OperationID) -> Bool { slots[id] != nil }

    /// The accepted operation `id`.
    public func operation(_ id: OperationID) -> SignedOperation? { node(id)?.op }

    /// The depth of accepted operation `id`.
    public func depth(of id: OperationID) -> UInt64? { node(id)?.depth }

    /// The chain height cited in the causal past of accepted operation `id`.
    public func chainHeight(of id: OperationID) -> UInt64? { node(id)?.chainHeight }

    /// Predecessors that buffered operations wait for and that are neither accepted nor
    /// buffered, sorted: what anti-entropy must fetch.
    /// - Complexity: O(m log m) for m missing ids (not the size of the buffer).
    public var missingPredecessors: [OperationID] {
        missingSet.filter { waiters[$0] != nil && slots.index(forKey: $0) == nil && pending.index(forKey: $0) == nil }.sorted()
    }

    /// Per participant, the highest accepted seq (all lower seqs are accepted as well).
    public var versionVector: [UInt64] { chains.map { UInt64($0.count) } }

    /// The id of `author`'s accepted operation at `seq` (the first one, if it forked), or `nil`.
    public func chainOperation(author: ParticipantIndex, seq: UInt64) -> OperationID? {
        guard Int(author) < chains.count, seq >= 1, seq <= UInt64(chains[Int(author)].count) else { return nil }
        return chains[Int(author)][Int(seq - 1)]
    }

    /// Accepted operations a peer with version vector `theirs` lacks (every branch of every
    /// seq above its entry), at most `limit`, taken seq layer by seq layer across authors so
    /// that each author progresses, and returned in causal order (by depth).
    /// - Complexity: O(limit + participants).
    public func operations(after theirs: [UInt64], limit: Int) -> [SignedOperation] {
        precondition(limit > 0)
        var out = [GraphNode]()
        var offset: UInt64 = 1
        var progressing = true
        while progressing, out.count < limit {
            progressing = false
            for author in chains.indices {
                let known = author < theirs.count ? theirs[author] : 0
                let (seq, overflow) = known.addingReportingOverflow(offset)
                guard !overflow, seq <= UInt64(chains[author].count) else { continue }
                progressing = true
                for id in ids(at: Seat(author: ParticipantIndex(author), seq: seq)) where out.count < limit {
                    out.append(node(id)!)
                }
            }
            offset += 1
        }
        return out.sorted { $0.key < $1.key }.map(\.op)
    }

    /// Accepted operations in the total order the ledger applied them.
    public var appliedOrder: [OperationID] { journal.order.map(\.id) }

    /// Every refused operation on record, sorted by id: attributable graph rejections and
    /// ledger rejections with their class.
    public var rejections: [RejectionRecord] {
        var records = Array(graphRejected.values)
        for (id, reason) in ledgerRejected {
            let op = node(id)!.op
            let kind: RejectionClass = failsInCausalPast[id]! ? .invalidInCausalPast : reason.isVoid ? .void : .concurrentConflict
            records.append(RejectionRecord(id: id, author: op.author, seq: op.seq, reason: .ledger(reason), kind: kind))
        }
        return records.sorted { $0.id < $1.id }
    }

    /// The record of operation `id`'s graph refusal (attributable, kept locally), if any.
    public func graphRejection(of id: OperationID) -> RejectionRecord? { graphRejected[id] }

    /// How many operations were refused as breaking their author's chain (with evidence).
    public var brokenChainCount: Int { brokenChains.count }

    /// The operations refused as breaking their author's chain, sorted by id.
    public var brokenChainRefusals: [SignedOperation] { brokenChains.values.map(\.op).sorted { $0.id < $1.id } }

    /// The ledger rejection of accepted operation `id`, if it was refused.
    public func ledgerRejection(of id: OperationID) -> LedgerRejection? { ledgerRejected[id] }

    /// Evidence of misbehaviour, sorted.
    /// Equivocations, broken author chains (with the cited operations), and every operation
    /// refused as invalid in its causal past (with that causal past, up to
    /// `InvalidOperationEvidence.pastOpsMax` ancestors).
    public var evidence: [Evidence] {
        var all = equivocations.values.map { Evidence.equivocation($0) }
        all.append(contentsOf: brokenChains.values.map { Evidence.brokenChain($0) })
        for id in ledgerRejected.keys where failsInCausalPast[id] == true {
            if let cached = invalidEvidence[id] {
                all.append(cached)
                continue
            }
            var past = [SignedOperation]()
            var visited = Set<OperationID>()
            var stack = node(id)!.op.preds
            while let next = stack.popLast(), past.count <= InvalidOperationEvidence.pastOpsMax {
                guard visited.insert(next).inserted else { continue }
                let op = node(next)!.op
                past.append(op)
                stack.append(contentsOf: op.preds)
            }
            guard past.count <= InvalidOperationEvidence.pastOpsMax else { continue }
            let evidence = Evidence.invalidInCausalPast(InvalidOperationEvidence(op: node(id)!.op, past: past))
            invalidEvidence[id] = evidence
            all.append(evidence)
        }
        return all.sorted()
    }

    /// The balance ledger after every accepted operation.
    public var balances: BalanceLedger { ledger.accounts }

    /// The whole current state: the ledger and every enabled application.
    public var state: ChannelState { ledger }

    /// The account of `participant` in `token`.
    public func account(_ participant: ParticipantIndex, _ token: TokenID) -> Account {
        ledger.accounts.account(participant, token)
    }

    /// The RFC 6962-style Merkle root over the ledger's canonical leaves.
    /// - Complexity: O(n log n) in the number of ledger entries.
    public var stateRoot: Digest32 { Self.commitment(of: ledger).root }

    /// A Merkle inclusion proof of one account under `stateRoot`, or `nil` when the account
    /// has never been touched.
    public func balanceProof(_ participant: ParticipantIndex, _ token: TokenID) -> BalanceProof? {
        let key = AccountKey(participant: participant, token: token)
        let accountKeys = ledger.accounts.stateLeaves().accounts
        guard let index = accountKeys.firstIndex(of: key) else { return nil }
        let hashes = ledger.stateLeaves().map(Merkle.leafHash)
        return BalanceProof(
            key: key, account: ledger.accounts.account(participant, token), leafIndex: UInt64(index),
            treeSize: UInt64(hashes.count), path: Merkle.inclusionPath(leafHashes: hashes, index: index))
    }
}

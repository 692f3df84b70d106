import ChannelCore

/// An independent verifier of evidence, written from docs/byzantine.md, docs/wire-format.md
/// and docs/merge-and-ledger.md, not from `EvidenceVerifier`: it recomputes every id and
/// signed digest from the documented bytes, checks the author-chain rule itself, and judges an
/// operation invalid in its causal past by running the independent `LedgerModel` on that past.
/// It shares only crypto primitives and the decoded operation types with the system under test.
struct EvidenceModel {
    let config: ChannelConfig

    /// The culprit when the evidence proves misbehaviour, else why not (a short reason).
    enum Verdict: Equatable {
        case proves(ParticipantIndex)
        case refuted(String)
    }

    /// The operation id the docs define: `H("chanlab/op-id/v1", unsigned bytes)`.
    static func id(_ op: SignedOperation) -> OperationID { LedgerModel.tagged("chanlab/op-id/v1", op.unsignedBytes) }

    /// Whether the operation's signature verifies for its author under the documented digest
    /// `H("chanlab/op-sig/v1", channel ‖ id)`, with the id recomputed from the bytes.
    func signatureHolds(_ op: SignedOperation) -> Bool {
        guard Int(op.author) < config.participants.count, op.channel == config.channel else { return false }
        let digest = LedgerModel.tagged("chanlab/op-sig/v1", LedgerModel.bytes(op.channel) + LedgerModel.bytes(Self.id(op)))
        return config.participants[Int(op.author)].publicKey.verify(op.signature, digest: digest)
    }

    /// The checkpoint digest of docs/wire-format.md ("Checkpoint digest"), entries sorted by
    /// (culprit, victim, token, amount).
    static func digest(_ c: Checkpoint) -> Digest32 {
        var data = LedgerModel.bytes(c.channel) + LedgerModel.be(c.version) + LedgerModel.bytes(c.stateRoot) + LedgerModel.be(c.treeSize)
        data += LedgerModel.be(UInt32(c.heads.count)) + c.heads.sorted().flatMap(LedgerModel.bytes) + LedgerModel.be(c.previous)
        let entries = c.compensations.sorted { ($0.culprit, $0.victim, $0.token, $0.amount) < ($1.culprit, $1.victim, $1.token, $1.amount) }
        data += LedgerModel.be(UInt32(entries.count))
        for entry in entries {
            data += LedgerModel.be(entry.victim) + LedgerModel.be(entry.token) + LedgerModel.be(entry.culprit) + LedgerModel.be(entry.amount)
        }
        return LedgerModel.tagged("chanlab/checkpoint/v1", data)
    }

    /// The author-chain rule: seq 1 cites no own operation; seq n > 1 cites exactly one, of
    /// seq n − 1.
    static func followsChain(_ op: SignedOperation, cited: [SignedOperation]) -> Bool {
        let own = cited.filter { $0.author == op.author }.map(\.seq)
        return op.seq == 1 ? own.isEmpty : op.seq > 1 && own == [op.seq - 1]
    }

    func verdict(_ evidence: Evidence) -> Verdict {
        // Operations that could never be accepted prove nothing (the model's own check).
        let carried: [SignedOperation]
        switch evidence {
        case let .equivocation(pair): carried = [pair.first, pair.second]
        case let .brokenChain(e): carried = [e.op] + e.preds
        case let .invalidInCausalPast(e): carried = [e.op] + e.past
        case .staleProposal: carried = []
        }
        if let bad = carried.first(where: { LedgerModel.nonCanonical($0) != nil }) {
            return .refuted("\(bad.id.short) is not a well-formed operation: \(LedgerModel.nonCanonical(bad)!)")
        }
        switch evidence {
        case let .equivocation(pair):
            let (a, b) = (pair.first, pair.second)
            guard Self.id(a) != Self.id(b) else { return .refuted("one operation twice") }
            guard a.author == b.author, a.seq == b.seq else { return .refuted("different seats") }
            guard signatureHolds(a), signatureHolds(b) else { return .refuted("a signature does not hold") }
            return .proves(a.author)
        case let .brokenChain(e):
            guard signatureHolds(e.op) else { return .refuted("the signature does not hold") }
            let given = e.preds.map(Self.id).sorted(by: LedgerModel.precedes)
            guard given == e.op.preds else { return .refuted("the cited operations are not the ones the operation names") }
            guard !Self.followsChain(e.op, cited: e.preds) else { return .refuted("the chain is not broken") }
            return .proves(e.op.author)
        case let .staleProposal(e):
            guard e.newer.channel == config.channel, Int(e.proposer) < config.participants.count else { return .refuted("another channel or proposer") }
            guard e.newer.previous > e.proposedVersion else { return .refuted("the signed checkpoint names no newer certificate") }
            guard config.participants[Int(e.proposer)].publicKey.verify(e.signature, digest: Self.digest(e.newer)) else {
                return .refuted("the proposer's signature does not hold")
            }
            return .proves(e.proposer)
        case let .invalidInCausalPast(e):
            return invalidInPast(e.op, past: e.past)
        }
    }

    /// The operation, replayed on exactly its causal past, is refused by the ledger and
    /// classed invalid in its causal past.
    func invalidInPast(_ op: SignedOperation, past: [SignedOperation]) -> Verdict {
        guard past.count <= InvalidOperationEvidence.pastOpsMax else { return .refuted("too large") }
        let all = past + [op]
        guard all.allSatisfy(signatureHolds) else { return .refuted("a signature does not hold") }
        var byID = [OperationID: SignedOperation]()
        for item in all { byID[Self.id(item)] = item }
        guard byID.count == all.count else { return .refuted("an operation given twice") }
        // Exactly the causal past: everything `op` reaches, nothing else.
        var reached = Set<OperationID>()
        var stack = op.preds
        while let id = stack.popLast() {
            guard reached.insert(id).inserted else { continue }
            guard let ancestor = byID[id] else { return .refuted("the causal past is incomplete") }
            stack.append(contentsOf: ancestor.preds)
        }
        guard reached.count == past.count else { return .refuted("operations outside the causal past") }
        for item in all where !Self.followsChain(item, cited: item.preds.map { byID[$0]! }) {
            return .refuted("an operation in the past breaks its chain (the graph refuses it)")
        }
        let model = LedgerModel(config: config)
        if !model.judgesEveryApplication {
            // An application without a model of its own: the past is judged by the system's
            // verifier (docs/teeth.md, "What the models do not cover").
            do {
                return .proves(try EvidenceVerifier.verify(Evidence.invalidInCausalPast(InvalidOperationEvidence(op: op, past: past)), config: config))
            } catch {
                return .refuted("\(error)")
            }
        }
        let outcome = model.outcome(of: all, classifying: Self.id(op))
        guard let record = outcome.records[Self.id(op)] else { return .refuted("the ledger applies it") }
        guard record[44] == 0x01 else { return .refuted("refused only as a concurrent conflict") }
        return .proves(op.author)
    }
}

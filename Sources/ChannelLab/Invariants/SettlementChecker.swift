import ChannelCore

/// The settlement checkers, kept apart from nodes and chain: fed after every block with what
/// the chain executed, and at the end of the run. They never trust the contract's own
/// bookkeeping: payouts are recounted from the executed transactions.
final class SettlementChecker {
    let spec: SettlementSpec
    let honest: Set<Int>
    let blockInterval: SimDuration
    let tokens: [TokenID]
    private var recordsSeen = 0
    private var paidCount: [AccountKey: Int] = [:]
    private(set) var paid: [AccountKey: Amount] = [:]
    private(set) var payouts: [PayoutReport] = []
    private var lastLatestVersion: UInt64 = 0
    /// The version of the checkpoint under dispute after the last block (a challenge may only
    /// raise it).
    private var lastDisputedVersion: UInt64?
    private var final: SignedCheckpoint?
    private(set) var finalizedAt: UInt64?
    private var proposal: (version: UInt64, height: UInt64, deadline: UInt64, congestedBefore: Int)?

    private var disputeReported = false
    private var exitReported: Set<Int> = []
    private(set) var losses: [HonestLoss] = []
    private(set) var cause: String?
    private var newestHonestVersion: UInt64?
    private(set) var challengesWon = 0
    private var challengesRefused = 0
    private(set) var exits: Set<Int> = []
    /// Most transactions listed in the report.
    static let recordsInReportMax = 200

    init(spec: SettlementSpec, honest: Set<Int>, blockInterval: SimDuration, tokens: [TokenID]) {
        self.spec = spec
        self.honest = honest
        self.blockInterval = blockInterval
        self.tokens = tokens
    }

    /// After every block: payouts recounted (nothing twice, never above what the contract was
    /// funded with), version monotone, finalized outcome fixed, the finalized checkpoint
    /// against the newest honest one, dispute liveness and exit deadlines.
    func afterBlock(chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) {
        let contract = chain.contract
        for record in chain.records[recordsSeen...] { account(record, chain: chain, nodes: nodes, now: now, monitor: monitor) }
        recordsSeen = chain.records.count
        let paidTotal = paid.values.reduce(Amount(0), +)
        if paidTotal > contract.heldTotal {
            monitor.report(.settlementSafety, at: now, nodes: [], "payouts \(paidTotal) exceed deposits plus bonds \(contract.heldTotal)")
        }
        let latest = contract.latest?.checkpoint.version ?? 0
        if latest < lastLatestVersion {
            monitor.report(.settlementMonotone, at: now, nodes: [], "on-chain checkpoint version went from \(lastLatestVersion) down to \(latest) at height \(chain.height)")
        }
        lastLatestVersion = latest
        // The checkpoint under dispute may be replaced only by a newer one (a challenge).
        let disputed = contract.proposal?.checkpoint.checkpoint.version
        if let disputed, let previous = lastDisputedVersion, disputed < previous {
            monitor.report(.settlementMonotone, at: now, nodes: [], "the proposal under dispute went from version \(previous) down to \(disputed) at height \(chain.height)")
        }
        if let disputed { lastDisputedVersion = disputed }
        if let current = contract.proposal, proposal == nil {
            proposal = (current.checkpoint.checkpoint.version, chain.height, current.deadline, chain.congestedBlocks)
            monitor.reach(.settlementProposed)
        }
        if let pending = pendingVerdict, let proposal, chain.height + spec.inclusionBlocksMax > proposal.deadline {
            pendingVerdict = nil
            verdict(pending, chain: chain, nodes: nodes, now: now, monitor: monitor)
        }
        if let previous = final, contract.final != previous {
            monitor.report(.settlementMonotone, at: now, nodes: [], "finalized outcome changed from version \(previous.checkpoint.version) to \(contract.final.map { "\($0.checkpoint.version)" } ?? "none")")
        }
        if final == nil, let signed = contract.final {
            final = signed
            finalizedAt = chain.height
            monitor.reach(.settlementFinalized)
            judgeFinal(signed, chain: chain, nodes: nodes, now: now, monitor: monitor)
        }
        notePresence(nodes: nodes, height: chain.height)
        if let proposal, final == nil, !disputeReported, let bound = finalizeBound(deadline: proposal.deadline, congestedBefore: proposal.congestedBefore, chain: chain),
            chain.height > bound
        {
            disputeReported = true
            monitor.report(.disputeLiveness, at: now, nodes: [], "proposal of version \(proposal.version) at height \(proposal.height) (deadline \(proposal.deadline)) is not final at height \(chain.height), bound \(bound)")
        }
        checkExits(chain: chain, nodes: nodes, now: now, monitor: monitor)
    }

    /// Per honest node, the height of the first block after which it has been up and online at
    /// every block since (sampled after each block); no entry while it is down or offline.
    private var presentSince: [Int: UInt64] = [:]

    /// Samples, after a block, which honest nodes are up and online: presence is the
    /// environment's doing (faults, the liveness phase), not a node's decision.
    private func notePresence(nodes: [ChannelNode], height: UInt64) {
        for node in nodes where honest.contains(Int(node.index)) {
            let index = Int(node.index)
            if node.up && node.online {
                if presentSince[index] == nil { presentSince[index] = height }
            } else {
                presentSince[index] = nil
            }
        }
    }

    /// The height by which a proposal must be final once its window has closed, or `nil` while
    /// no honest node is up and online (none can send `finalize`; the end of the run reports a
    /// proposal never finalized). Every honest node present sends `finalize` on hearing the
    /// status of the first block after the deadline that finds it present, and resends it one
    /// resend pacing after each loss. So for each node present now: from that block, the
    /// inclusion delay, one pacing per submission of its that the network lost since, and the
    /// blocks congestion took since the proposal; the earliest over these nodes. A node that
    /// has just come back starts from its return, not from the deadline (found by a seed sweep
    /// of the regression scenarios, `regress-exit-lossy-chain-link` seeds 212 and 291 at the
    /// time: the only node present through the window lost two `finalize` in a row, and the
    /// two that came back with the liveness phase counted as nodes that had lost none since
    /// the deadline, as if they had been there to send one).
    func finalizeBound(deadline: UInt64, congestedBefore: Int, chain: SimChain) -> UInt64? {
        let congested = UInt64(chain.congestedBlocks - congestedBefore)
        var bound: UInt64?
        for (index, since) in presentSince.sorted(by: { $0.key < $1.key }) {
            let start = max(deadline + 1, since)
            guard let startTime = chain.time(ofBlock: start) else { continue }
            let lost = UInt64(chain.lostSubmissions[index]?.filter { $0 >= startTime }.count ?? 0)
            let nodeBound = start + spec.inclusionBlocksMax + lost * ChannelNode.resendBlocks + congested
            bound = min(bound ?? nodeBound, nodeBound)
        }
        return bound
    }

    private func account(_ record: ChainRecord, chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) {
        switch record.kind {
        case "challenge":
            if record.refusal == nil {
                challengesWon += 1
                monitor.reach(.challengeWon)
            } else {
                challengesRefused += 1
            }
        case "finalize":
            // The contract's own rule, recounted: no finalization while the window is open,
            // whether or not anyone lost by it.
            if record.refusal == nil, let deadline = proposal?.deadline, record.height <= deadline {
                monitor.report(.settlementSafety, at: now, nodes: [record.from], "the contract finalized at height \(record.height), before the dispute window closed at height \(deadline)")
            }
        case "propose", "exit":
            // Taken from the record, so a proposal finalized within its own block is seen too.
            guard record.refusal == nil else { return }
            if proposal == nil, let version = record.version {
                proposal = (version, record.height, record.height + spec.disputeWindowBlocks, chain.congestedBlocks)
                monitor.reach(.settlementProposed)
            }
            // An exit is a force close: it opened the dispute window (payouts are claims).
            if record.kind == "exit" {
                exits.insert(record.from)
                monitor.reach(.emergencyExit)
            }
        case "claim":
            guard record.refusal == nil, let participant = record.participant, let token = record.token,
                let amount = record.amount.flatMap({ Amount($0) })
            else { return }
            let key = AccountKey(participant: ParticipantIndex(participant), token: token)
            paidCount[key, default: 0] += 1
            paid[key, default: 0] += amount
            payouts.append(PayoutReport(participant: participant, token: token, amount: String(amount), kind: record.kind, height: record.height, timeMicros: record.timeMicros))
            if paidCount[key]! > 1 {
                monitor.report(.settlementSafety, at: now, nodes: [participant], "account \(participant)/\(token) paid twice (now \(paid[key]!) in \(paidCount[key]!) payouts)")
            }
            monitor.reach(.payoutClaimed)
        default:
            break
        }
    }

    /// At finalization: the final checkpoint must be the newest an honest node holds; if not,
    /// the loss per account and its cause go in the report and the violation names both.
    private func judgeFinal(_ signed: SignedCheckpoint, chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) {
        var newest: (SignedCheckpoint, Int)?
        for node in nodes where honest.contains(Int(node.index)) {
            if let held = node.duty.held, held.checkpoint.version > (newest?.0.checkpoint.version ?? 0) { newest = (held, Int(node.index)) }
        }
        newestHonestVersion = newest?.0.checkpoint.version
        guard let (best, holder) = newest, best.checkpoint.version > signed.checkpoint.version else { return }
        let cause = explain(chain: chain, newest: best.checkpoint.version)
        self.cause = cause
        if let expected = ledger(at: best.checkpoint, nodes: nodes), let settled = ledger(at: signed.checkpoint, nodes: nodes) {
            for participant in honest.sorted() {
                for token in tokens {
                    let want = expected.account(ParticipantIndex(participant), token).total
                    let got = settled.account(ParticipantIndex(participant), token).total
                    if got < want {
                        losses.append(HonestLoss(participant: participant, token: token, expected: String(want), settled: String(got), lost: String(want - got)))
                    }
                }
            }
        }
        let lossText = losses.map { "\($0.participant)/\($0.token) loses \($0.lost)" }.joined(separator: ", ")
        let pending = PendingVerdict(final: signed.checkpoint.version, best: best.checkpoint.version, holder: holder, lossText: lossText, cause: cause)
        // Whether an honest node could have challenged is known once the window's last
        // challengeable block has passed (an early finalization comes before it).
        if let proposal, chain.height + spec.inclusionBlocksMax <= proposal.deadline,
            challengeable(chain: chain, nodes: nodes) <= signed.checkpoint.version
        {
            pendingVerdict = pending
        } else {
            verdict(pending, chain: chain, nodes: nodes, now: now, monitor: monitor)
        }
    }

    /// The newest checkpoint an honest node could have challenged with in time: one it held
    /// when it saw the open proposal in a chain status at height h, early enough that its
    /// challenge is included by the deadline (h + `inclusionBlocksMax` ≤ deadline), allowing one
    /// resend pacing for each of its submissions the network lost since (the protocol's
    /// assumption; presence is what the node saw, not block instants).
    private func challengeable(chain: SimChain, nodes: [ChannelNode]) -> UInt64 {
        guard let proposal else { return 0 }
        var best: UInt64 = 0
        for node in nodes where honest.contains(Int(node.index)) {
            let lostTimes = chain.lostSubmissions[Int(node.index)] ?? []
            for (height, version) in node.duty.challengeChances where version > best {
                let seenAt = chain.time(ofBlock: height) ?? .zero
                let lost = UInt64(lostTimes.filter { $0 >= seenAt }.count)
                if height + spec.inclusionBlocksMax + lost * ChannelNode.resendBlocks <= proposal.deadline { best = version }
            }
        }
        return best
    }

    /// A stale final checkpoint, waiting for the window's verdict.
    struct PendingVerdict {
        let final: UInt64
        let best: UInt64
        let holder: Int
        let lossText: String
        let cause: String
    }

    private var pendingVerdict: PendingVerdict?

    /// A violation if some honest node held a newer checkpoint than the final one while up and
    /// online early enough in the window to challenge; otherwise the loss is outside the
    /// protocol's assumption (the holders were offline or down throughout, or got it too late):
    /// reported, not a violation (found by the fuzzer: a stalled node's exit while the holders
    /// of newer state were away).
    private func verdict(_ pending: PendingVerdict, chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) {
        guard challengeable(chain: chain, nodes: nodes) > pending.final else {
            cause = pending.cause + "; no honest node held a newer checkpoint while up and online early enough in the dispute window to challenge"
            // (A newer checkpoint of the same balances, formed late, loses nobody anything.)
            if !pending.lossText.isEmpty { monitor.reach(.unchallengeableLoss) }
            return
        }
        monitor.report(
            .settlementSafety, at: now, nodes: [pending.holder],
            "finalized version \(pending.final) but honest node \(pending.holder) holds version \(pending.best)"
                + (pending.lossText.isEmpty ? "" : ": \(pending.lossText)") + "; cause: \(pending.cause)")
    }

    /// Why the newest checkpoint did not win: an early finalization, honest challenges held
    /// past the deadline (and the congestion that held them), or no honest challenge at all.
    /// Only honest challengers are named: a Byzantine node's challenge, a stale proposer's
    /// own among them, says nothing about what the protocol owed the honest ones (found by
    /// review: a cause named the stale proposer's challenge).
    private func explain(chain: SimChain, newest: UInt64) -> String {
        guard let proposal else { return "no proposal on record" }
        if let early = chain.records.first(where: { $0.kind == "finalize" && $0.refusal == nil }), early.height <= proposal.deadline {
            return "the contract finalized at height \(early.height), before the dispute window closed at height \(proposal.deadline)"
        }
        let congestion = chain.congestionSpans.map { "chain congestion from \(SimInstant(micros: $0.from.micros)) to \(SimInstant(micros: $0.until.micros))" }
        let late = heldBackChallenges(chain: chain, deadline: proposal.deadline)
        if !late.isEmpty {
            let who = late.map { "\($0.from)" }.joined(separator: ", ")
            let each = late.map { record in
                let delay = SimDuration(micros: record.timeMicros - record.submittedMicros)
                return "node \(record.from)'s (version \(record.version ?? 0)) submitted at \(SimInstant(micros: record.submittedMicros)), included at height \(record.height) (\(SimInstant(micros: record.timeMicros)), \(delay) later)"
            }
            return "the challenges of honest node\(late.count == 1 ? "" : "s") \(who) were submitted while the window was open but included after the deadline \(proposal.deadline): "
                + each.joined(separator: "; ") + (congestion.isEmpty ? "" : "; " + congestion.joined(separator: ", ") + " held them in the mempool")
        }
        return "no honest challenge with version \(newest) reached the chain before the deadline \(proposal.deadline)" + (congestion.isEmpty ? "" : "; " + congestion.joined(separator: ", "))
    }

    /// Each honest node's first challenge that was submitted before the deadline block was
    /// produced (a block up to the deadline could still have included it) but was executed
    /// after the deadline (refused `windowClosed`, or `alreadyFinalized` behind the
    /// finalization in the same block), in node order.
    func heldBackChallenges(chain: SimChain, deadline: UInt64) -> [ChainRecord] {
        guard let closing = chain.time(ofBlock: deadline) else { return [] }
        var first: [Int: ChainRecord] = [:]
        for record in chain.records where record.kind == "challenge" && honest.contains(record.from) {
            guard record.height > deadline, record.submittedMicros <= closing.micros else { continue }
            if let seen = first[record.from], seen.submittedMicros <= record.submittedMicros { continue }
            first[record.from] = record
        }
        return first.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Exit deadlines. The checker judges the stall itself: an honest node, up and online, that
    /// has heard of no new certificate for `stallTimeout` while nothing is proposed must be
    /// paid within the dispute window plus three inclusion delays (its exit, `finalize`, its
    /// claim), plus blocks lost to congestion and resends of lost submissions — whether or not
    /// the node noticed. It is paid against the final checkpoint (the amounts are checked with
    /// every other account's at the end), or its newest one while nothing is final.
    private func checkExits(chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) {
        guard let timeout = spec.stallTimeout else { return }
        for node in nodes where honest.contains(Int(node.index)) && !exitReported.contains(Int(node.index)) {
            let decided: SimInstant
            let held: SignedCheckpoint
            if let at = node.duty.exitDecidedAt, let with = node.duty.exitWith {
                (decided, held) = (at, with)
            } else if let newest = node.duty.held, node.up, node.online, proposal == nil, chain.contract.final == nil {
                (decided, held) = (node.duty.lastCertificateAt + timeout, newest)
            } else {
                continue
            }
            // Each of the node's submissions the network lost since the decision costs one
            // resend pacing (found by the fuzzer, seed 10324: four register transactions lost
            // in a row on an 8 % lossy link).
            let lost = UInt64(chain.lostSubmissions[Int(node.index)]?.filter { $0 >= decided }.count ?? 0)
            let blocks = spec.disputeWindowBlocks + 3 * (spec.inclusionBlocksMax + 1) + lost * ChannelNode.resendBlocks
            let congestion = chain.congestionSpans.reduce(UInt64(0)) { sum, span in
                let start = max(span.from.micros, decided.micros)
                return sum + (span.until.micros > start ? span.until.micros - start : 0)
            }
            let bound = decided + SimDuration(micros: blocks * blockInterval.micros + congestion)
            // (At the end of the run too, only a passed bound counts.)
            guard now > bound else { continue }
            guard let ledger = ledger(at: chain.contract.final?.checkpoint ?? held.checkpoint, nodes: nodes) else { continue }
            let unpaid = tokens.filter { token in
                let key = AccountKey(participant: node.index, token: token)
                return ledger.account(node.index, token).total > 0 && paid[key] == nil
            }
            if !unpaid.isEmpty {
                exitReported.insert(Int(node.index))
                let what = node.duty.exitDecidedAt == nil ? "stalled (no new certificate) since" : "decided to exit at"
                monitor.report(.unilateralExit, at: now, nodes: [Int(node.index)], "node \(node.index) \(what) \(decided) holding version \(held.checkpoint.version); tokens \(unpaid) still unpaid by \(bound)")
            }
        }
    }

    /// At the end: outstanding checks and the report.
    func finish(chain: SimChain, nodes: [ChannelNode], now: SimInstant, monitor: InvariantMonitor) -> SettlementReport {
        afterBlock(chain: chain, nodes: nodes, now: now, monitor: monitor)
        if let pending = pendingVerdict {
            pendingVerdict = nil
            verdict(pending, chain: chain, nodes: nodes, now: now, monitor: monitor)
        }
        if let proposal, final == nil, !disputeReported {
            monitor.report(.disputeLiveness, at: now, nodes: [], "proposal of version \(proposal.version) (deadline \(proposal.deadline)) never finalized; chain at height \(chain.height)")
        }
        if let due = spec.proposeAt, proposal == nil, exits.isEmpty {
            monitor.report(.disputeLiveness, at: now, nodes: [spec.proposer], "settlement was due at \(due) but nothing was proposed by the end (chain at height \(chain.height))")
        }
        if let final, let settled = ledger(at: final.checkpoint, nodes: nodes) {
            // Every honest account is paid exactly its final total (exiters too: an exit is a
            // force close, and its payouts are claims).
            for participant in honest.sorted() {
                for token in tokens {
                    let key = AccountKey(participant: ParticipantIndex(participant), token: token)
                    let want = settled.account(key.participant, token).total
                    let got = Int128(paid[key] ?? 0)
                    if want > 0, got != want, (paidCount[key] ?? 0) <= 1 {
                        monitor.report(.settlementSafety, at: now, nodes: [participant], "account \(participant)/\(token) was paid \(got), the finalized checkpoint says \(want)")
                    }
                }
            }
        }
        if newestHonestVersion == nil {
            newestHonestVersion = nodes.filter { honest.contains(Int($0.index)) }.compactMap { $0.duty.held?.checkpoint.version }.max()
        }
        let contract = chain.contract
        let outcome = contract.isFinalized ? "finalized" : proposal != nil ? "proposed" : "none"
        return SettlementReport(
            outcome: outcome, proposedVersion: proposal?.version, proposedAtHeight: proposal?.height, deadline: proposal?.deadline,
            finalVersion: final?.checkpoint.version, finalizedAtHeight: finalizedAt, newestHonestVersion: newestHonestVersion,
            challengesWon: challengesWon, challengesRefused: challengesRefused, exits: exits.sorted(), honestLosses: losses, cause: cause,
            chainHeight: chain.height, congestedBlocks: chain.congestedBlocks, compensations: checkCompensation(chain: chain, now: now, monitor: monitor),
            transactions: Array(chain.records.prefix(SettlementChecker.recordsInReportMax)))
    }

    /// Compensation: for each honest victim in the final checkpoint, recount what it was paid
    /// from the executed claims. A culprit whose exposure is within its slashed bond must have
    /// paid every victim in full; beyond the bond, each victim gets its pro-rata share.
    private func checkCompensation(chain: SimChain, now: SimInstant, monitor: InvariantMonitor) -> [CompensationReport] {
        guard let final = chain.contract.final else { return [] }
        var reports = [CompensationReport]()
        let entries = final.checkpoint.compensations
        for entry in entries where honest.contains(Int(entry.victim)) {
            let exposure = entries.filter { $0.culprit == entry.culprit }.reduce(Amount(0)) { $0 + $1.amount }
            let bond = chain.contract.slashed[entry.culprit] ?? 0
            let due = exposure <= bond ? entry.amount : entry.amount * bond / max(exposure, 1)
            let paid = chain.records.filter {
                $0.kind == "compensate" && $0.refusal == nil && $0.from == Int(entry.victim) && $0.token == entry.token && $0.culprit == Int(entry.culprit)
            }.compactMap { $0.amount.flatMap { Amount($0) } }.reduce(Amount(0), +)
            if paid > 0 { monitor.reach(.victimCompensated) }
            if paid != due, bond > 0 {
                monitor.report(
                    .compensation, at: now, nodes: [Int(entry.victim)],
                    "victim \(entry.victim) is owed \(entry.amount) of token \(entry.token) by \(entry.culprit) (exposure \(exposure), slashed bond \(bond), due \(due)) but was paid \(paid)")
            }
            reports.append(CompensationReport(
                victim: Int(entry.victim), token: entry.token, culprit: Int(entry.culprit), owed: String(entry.amount), exposure: String(exposure),
                bond: String(bond), paid: String(paid)))
        }
        return reports
    }

    /// Whether settlement has nothing left to do: finalized with every honest account with a
    /// positive final total paid (when a proposal is due or was made), and every decided exit paid.
    func isQuiet(chain: SimChain, nodes: [ChannelNode]) -> Bool {
        // Settling: due by the scenario, or proposed on chain by anyone (a Byzantine proposer
        // too): quiet only once finalized and every honest account is paid.
        if spec.proposeAt != nil || chain.contract.proposal != nil || chain.contract.final != nil {
            guard let final = chain.contract.final, let settled = ledger(at: final.checkpoint, nodes: nodes) else { return false }
            for entry in final.checkpoint.compensations where honest.contains(Int(entry.victim)) && chain.contract.slashed[entry.culprit] != nil {
                let done = chain.contract.compensated.contains { $0.victim == entry.victim && $0.token == entry.token && $0.culprit == entry.culprit }
                if !done { return false }
            }
            for participant in honest {
                for token in tokens where settled.account(ParticipantIndex(participant), token).total > 0 {
                    if chain.contract.paid[AccountKey(participant: ParticipantIndex(participant), token: token)] == nil { return false }
                }
            }
        }
        // A decided exit is done only once the channel is final and claimed (above).
        if chain.contract.final == nil, nodes.contains(where: { honest.contains(Int($0.index)) && $0.duty.exitDecidedAt != nil }) { return false }
        return true
    }

    private var ledgers: [Digest32: BalanceLedger] = [:]
    /// Most checkpoint ledgers cached.
    static let ledgersCachedMax = 16

    /// The ledger a checkpoint commits to (cached by digest).
    func ledger(at checkpoint: Checkpoint, nodes: [ChannelNode]) -> BalanceLedger? {
        let digest = checkpoint.digest
        if let cached = ledgers[digest] { return cached }
        guard let ledger = Self.computeLedger(at: checkpoint, nodes: nodes) else { return nil }
        if ledgers.count >= Self.ledgersCachedMax { ledgers.removeAll() }
        ledgers[digest] = ledger
        return ledger
    }

    /// The ledger a checkpoint commits to, recomputed by any node that holds its heads and
    /// agrees with its root.
    static func computeLedger(at checkpoint: Checkpoint, nodes: [ChannelNode]) -> BalanceLedger? {
        for node in nodes {
            guard let replica = node.replica, let ledger = replica.ledger(at: checkpoint.heads) else { continue }
            let leaves = ledger.stateLeaves().leaves
            if UInt64(leaves.count) == checkpoint.treeSize, Merkle.root(leafHashes: leaves.map(Merkle.leafHash)) == checkpoint.stateRoot {
                return ledger
            }
        }
        return nil
    }
}

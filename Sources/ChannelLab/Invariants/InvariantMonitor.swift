import ChannelCore

/// The checkers of a run, kept apart from nodes, network and workloads. Continuous checks run
/// on every ledger application and every delivery; final checks run after the liveness phase.
public final class InvariantMonitor {
    public private(set) var violations: [Violation] = []
    /// Reached sometimes-assertions.
    public private(set) var reached: Set<Sometimes> = []
    /// Most violations kept (the first ones tell the story; the count still grows).
    public static let violationsMax = 1000
    /// Most violations kept of one invariant, so that one checker firing on every delivery
    /// cannot crowd the end-of-run checkers out of the report.
    public static let violationsPerInvariantMax = 50
    public private(set) var violationCount = 0
    private var keptPerInvariant: [Invariant: Int] = [:]
    let honest: Set<Int>
    /// With Byzantine participants an honest operation may be refused as a concurrent conflict
    /// it inherited from a Byzantine ancestor; honest validity is then judged at the end.
    let judgeValidityAtEnd: Bool
    /// Heads fingerprint → (node, state fingerprint): the strong eventual consistency table.
    private var statesByHeads: [UInt128: (node: Int, fingerprint: UInt128)] = [:]
    /// Entries in the SEC table before it starts over (a bound on memory, not on soundness of
    /// what it reports).
    public static let secEntriesMax = 200_000

    init(honest: Set<Int>, judgeValidityAtEnd: Bool = false) {
        self.honest = honest
        self.judgeValidityAtEnd = judgeValidityAtEnd
    }

    func reach(_ state: Sometimes) { reached.insert(state) }

    func report(_ invariant: Invariant, at time: SimInstant, nodes: [Int], operations: [OperationID] = [], _ detail: String) {
        violationCount += 1
        let kept = keptPerInvariant[invariant, default: 0]
        guard violations.count < InvariantMonitor.violationsMax, kept < InvariantMonitor.violationsPerInvariantMax else { return }
        keptPerInvariant[invariant] = kept + 1
        violations.append(Violation(invariant: invariant, timeMicros: time.micros, nodes: nodes, operations: operations.map(\.hex), detail: detail))
    }

    /// On every ledger application at `node`: honest validity and no negative balance.
    func onApply(node: Int, op: SignedOperation, refusal: LedgerRejection?, ledger: BalanceLedger, at time: SimInstant) {
        // An application's refusals that depend on state are races (two takers, one order):
        // honest operations may lose them; the application's checker judges their class.
        let race: Bool = if case let .application(rejection) = refusal { rejection.dependsOnState } else { false }
        if let refusal, honest.contains(Int(op.author)), !judgeValidityAtEnd, !race {
            report(.honestValidity, at: time, nodes: [node], operations: [op.id], "honest participant \(op.author)'s operation seq \(op.seq) refused: \(refusal)")
        }
        if ledger.negativeAccounts > 0 {
            let negative = ledger.accounts.filter { $0.value.isNegative }.map(\.key).sorted().prefix(3)
            report(.noNegativeBalance, at: time, nodes: [node], operations: [op.id], "negative account(s) \(negative.map { "\($0.participant)/\($0.token)" }) after applying \(op.id.short)")
        }
    }

    /// After a delivery changed `node`'s graph: conservation and strong eventual consistency.
    func afterDelivery(node: Int, replica: Replica, tokens: [TokenID], at time: SimInstant) {
        let ledger = replica.balances
        let fingerprint = replica.state.fingerprint
        for token in tokens where ledger.tokenTotal(token) != (ledger.depositTotals[token] ?? 0) {
            report(.conservation, at: time, nodes: [node], "token \(token): accounts hold \(ledger.tokenTotal(token)) but deposits applied are \(ledger.depositTotals[token] ?? 0)")
        }
        let digest = replica.headsFingerprint
        if let seen = statesByHeads[digest] {
            if seen.node != node, seen.fingerprint != fingerprint {
                report(.strongEventualConsistency, at: time, nodes: [seen.node, node], "equal heads (\(replica.heads.count) heads, fingerprint \(String(digest >> 64, radix: 16))) but different states")
            }
        } else {
            if statesByHeads.count >= InvariantMonitor.secEntriesMax { statesByHeads.removeAll(keepingCapacity: true) }
            statesByHeads[digest] = (node, fingerprint)
        }
    }
}

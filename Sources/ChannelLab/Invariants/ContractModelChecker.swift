import ChannelCore

/// Judges every call the chain makes on the settlement contract against the independent
/// `ContractModel`: the same decision (accepted, or refused with the same documented error)
/// and the same amount paid or slashed. A difference is a violation that names the call.
final class ContractModelChecker {
    private var model: ContractModel
    /// Disagreements reported (after the first, the model's state may differ from the
    /// contract's, so later ones can be consequences: a few are kept for the story).
    private(set) var disagreements = 0
    static let disagreementsMax = 5
    /// Calls judged.
    private(set) var calls = 0

    init(config: ChannelConfig, params: SettlementParams) {
        model = ContractModel(config: config, threshold: params.threshold, window: params.disputeWindowBlocks)
    }

    /// The documented error name of a contract refusal (the case, without its parameters).
    static func name(_ error: ContractError) -> String {
        let text = "\(error)"
        return String(text.prefix { $0 != "(" })
    }

    /// The contract's observable state, as the model keeps it: a difference after a call that
    /// both decided alike is a bookkeeping bug (a deposit counted twice, a payout not recorded).
    func stateDifference(_ contract: SettlementContract) -> String? {
        let deposits = Dictionary(uniqueKeysWithValues: contract.deposits.map { (LedgerModel.AccountID(participant: $0.key.participant, token: $0.key.token), $0.value) })
        if deposits != model.deposits { return "deposits \(contract.depositTotal) vs the model's \(model.depositTotal)" }
        if contract.bonds != model.bonds { return "bonds differ" }
        if Set(contract.paid.keys.map { LedgerModel.AccountID(participant: $0.participant, token: $0.token) }) != model.paid
            || contract.paidTotal != model.paidTotal
        {
            return "payouts \(contract.paidTotal) vs the model's \(model.paidTotal)"
        }
        if contract.compensationPool != model.pool { return "compensation pool \(contract.compensationPool) vs the model's \(model.pool)" }
        if contract.slashed != model.slashed { return "slashed bonds differ" }
        if contract.latest?.checkpoint.version != model.latestVersion { return "latest version \(contract.latest?.checkpoint.version ?? 0) vs the model's \(model.latestVersion ?? 0)" }
        switch (contract.phase, model.phase) {
        case (.open, .open): return nil
        case let (.proposed(a, deadline), .proposed(b, modelDeadline)) where a.checkpoint == b && deadline == modelDeadline: return nil
        case let (.finalized(a), .finalized(b)) where a.checkpoint == b: return nil
        default: return "phase \(contract.phase) vs the model's \(model.phase)"
        }
    }

    func judge(_ call: ContractCall, _ result: Result<Amount?, ContractError>, contract: SettlementContract, at time: SimInstant, monitor: InvariantMonitor) {
        calls += 1
        let expected: ContractModel.Decision
        let what: String
        var nodes = [Int]()
        switch call {
        case let .deposit(participant, token, amount):
            expected = model.deposit(participant, token: token, amount: amount)
            what = "deposit of \(amount) of token \(token) for \(participant)"
        case let .bond(participant, amount):
            expected = model.bond(participant, amount: amount)
            what = "bond of \(amount) for \(participant)"
        case let .tx(tx, from, height):
            nodes = [from]
            what = "\(tx.kind)\(tx.version.map { " v\($0)" } ?? "") from \(from) at height \(height)"
            switch tx {
            case let .register(signed): expected = model.register(signed)
            case let .propose(signed): expected = model.propose(signed, height: height, proposer: ParticipantIndex(from))
            case let .challenge(signed): expected = model.challenge(signed, height: height)
            case .finalize: expected = model.finalize(height: height)
            case let .claim(proof): expected = model.claim(proof)
            case let .exit(signed): expected = model.exit(signed, height: height, by: ParticipantIndex(from))
            case let .slash(evidence): expected = model.slash(evidence)
            case let .compensate(token, culprit): expected = model.compensate(victim: ParticipantIndex(from), token: token, culprit: culprit)
            }
        }
        let actual: ContractModel.Decision
        switch result {
        case let .success(amount): actual = .accepted(amount)
        case let .failure(error): actual = .refused(Self.name(error))
        }
        guard disagreements < Self.disagreementsMax else { return }
        if actual != expected {
            disagreements += 1
            monitor.report(.contractModel, at: time, nodes: nodes, "the contract \(actual) the \(what); an independent model of docs/settlement.md: \(expected)")
        } else if disagreements == 0, let difference = stateDifference(contract) {
            // Compared only while the two agree so far: after a disagreement the states differ
            // by its consequence, which says nothing new.
            disagreements += 1
            monitor.report(.contractModel, at: time, nodes: nodes, "after the \(what) (\(actual) by both), the contract's state differs from an independent model's: \(difference)")
        }
    }
}

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

    func judge(_ call: ContractCall, _ result: Result<Amount?, ContractError>, at time: SimInstant, monitor: InvariantMonitor) {
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
        guard actual != expected, disagreements < Self.disagreementsMax else { return }
        disagreements += 1
        monitor.report(.contractModel, at: time, nodes: nodes, "the contract \(actual) the \(what); an independent model of docs/settlement.md: \(expected)")
    }
}

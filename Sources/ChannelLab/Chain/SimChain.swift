import ChannelCore
import Collections

/// The simulated chain. Fault model: transactions wait in a mempool and execute only when a
/// block includes them (one block per `blockInterval`, at most `blockTxsMax` transactions);
/// a congestion fault stops inclusion until a given time. Chain time is block height. The
/// chain hosts the settlement contract: it executes deposit requests (funds locked in the
/// contract, a receipt signed by the funding key sent back) and every settlement call
/// (`ChainTx`), in block order, recording each outcome.
public final class SimChain {
    /// A transaction waiting for a block.
    struct Pending {
        enum Body {
            case deposit(request: UInt64, token: TokenID, amount: Amount)
            case tx(ChainTx)
        }
        let from: Int
        let body: Body
        let submittedAt: SimInstant
    }

    let funding: KeyPair
    let channel: ChannelID
    public private(set) var contract: SettlementContract
    public private(set) var height: UInt64 = 1
    private var nextNonce: UInt64 = 1
    private var mempool = Deque<Pending>()
    /// Requests already executed, by (participant, request): a duplicated transaction is
    /// executed once and its receipt sent again.
    private var issued: [UInt64: DepositReceipt] = [:]
    /// Inclusion is stopped until this time (congestion).
    private var congestedUntil = SimInstant.zero
    public private(set) var receiptsIssued = 0
    public private(set) var refused = 0
    /// Every executed settlement transaction, in execution order (at most `recordsMax`).
    public private(set) var records: [ChainRecord] = []
    /// When each block was produced, in height order from the genesis block (height 1, time
    /// 0): the block at height h is at index h − 1 (read it with `time(ofBlock:)`).
    public private(set) var blockTimes: [SimInstant] = [.zero]
    /// When the block at `height` was produced (`blockTimes` is indexed by height − 1: the
    /// genesis block, height 1, is at index 0); `nil` for a block not produced yet.
    public func time(ofBlock height: UInt64) -> SimInstant? {
        guard height >= 1, height - 1 < UInt64(blockTimes.count) else { return nil }
        return blockTimes[Int(height - 1)]
    }
    /// Blocks produced empty because of congestion, and when congestion was in force.
    public private(set) var congestedBlocks = 0
    public private(set) var congestionSpans: [(from: SimInstant, until: SimInstant)] = []
    /// Settlement transactions the network lost on their way here, by sender and time: like
    /// congestion, an environmental delay that liveness bounds allow for (the sender resends).
    public private(set) var lostSubmissions: [Int: [SimInstant]] = [:]
    /// Most lost submissions remembered per sender.
    public static let lostSubmissionsMax = 10_000

    /// Records a settlement transaction from `participant` lost by the network at `now`.
    func recordLostSubmission(from participant: Int, at now: SimInstant) {
        guard lostSubmissions[participant, default: []].count < SimChain.lostSubmissionsMax else { return }
        lostSubmissions[participant, default: []].append(now)
    }
    /// Most settlement records kept.
    public static let recordsMax = 100_000
    /// Most transactions one block includes.
    public static let blockTxsMax = 256
    /// Most transactions waiting in the mempool; beyond it, new ones are dropped.
    public static let mempoolTxsMax = 100_000
    /// Most receipts the chain remembers for deduplication.
    public static let receiptsMax = 10_000_000

    /// Planted bug: sign receipts without locking the funds.
    let unbacked: Bool
    /// Called after every contract call with its outcome (for checkers that judge the contract
    /// with an independent model); `nil` costs one test per call.
    var onContractCall: ((ContractCall, Result<Amount?, ContractError>) -> Void)?

    init(funding: KeyPair, config: ChannelConfig, params: SettlementParams, unbacked: Bool = false, bugs: ContractBugs = []) {
        self.unbacked = unbacked
        self.funding = funding
        channel = config.channel
        contract = SettlementContract(config: config, params: params, bugs: bugs)
    }

    /// A genesis bond at height 1.
    func genesisBond(for participant: ParticipantIndex, amount: Amount) {
        _ = call(.bond(participant: participant, amount: amount)) { () throws(ContractError) in
            try self.contract.bond(participant, amount: amount)
            return nil
        }
    }

    /// A genesis deposit at height 1: locked in the contract, receipt returned at once.
    func genesisDeposit(for participant: ParticipantIndex, token: TokenID, amount: Amount) -> DepositReceipt? {
        guard deposit(participant, token, amount) else { return nil }
        return sign(participant, token, amount)
    }

    /// Locks a deposit in the contract; whether it was accepted.
    private func deposit(_ participant: ParticipantIndex, _ token: TokenID, _ amount: Amount) -> Bool {
        let result = call(.deposit(participant: participant, token: token, amount: amount)) { () throws(ContractError) in
            try self.contract.deposit(participant, token: token, amount: amount)
            return nil
        }
        if case .success = result { return true }
        return false
    }

    /// Makes one contract call and tells the observer what it did.
    private func call(_ what: ContractCall, _ body: () throws(ContractError) -> Amount?) -> Result<Amount?, ContractError> {
        let result: Result<Amount?, ContractError>
        do throws(ContractError) { result = .success(try body()) } catch { result = .failure(error) }
        onContractCall?(what, result)
        return result
    }

    /// Queues a deposit request; `false` when the mempool is full or the request is malformed.
    func submitDeposit(from participant: Int, request: UInt64, token: TokenID, amount: Amount, at now: SimInstant) -> Bool {
        guard mempool.count < SimChain.mempoolTxsMax, request < 1 << 40 else { return false }
        mempool.append(Pending(from: participant, body: .deposit(request: request, token: token, amount: amount), submittedAt: now))
        return true
    }

    /// Queues a settlement transaction; `false` when the mempool is full.
    func submit(_ tx: ChainTx, from participant: Int, at now: SimInstant) -> Bool {
        guard mempool.count < SimChain.mempoolTxsMax else { return false }
        mempool.append(Pending(from: participant, body: .tx(tx), submittedAt: now))
        return true
    }

    /// Stops inclusion until `until`.
    func congest(from now: SimInstant, until: SimInstant) {
        congestedUntil = max(congestedUntil, until)
        congestionSpans.append((now, until))
    }

    /// What the chain tells `participant` after the latest block.
    func status(for participant: ParticipantIndex) -> ChainStatus {
        let proposal = contract.proposal
        return ChainStatus(
            height: height, latestVersion: contract.latest?.checkpoint.version ?? 0, proposal: proposal?.checkpoint,
            proposer: proposal == nil ? nil : contract.proposals.last?.proposer,
            proposedVersion: proposal == nil ? nil : contract.proposals.last?.version,
            deadline: proposal?.deadline ?? 0, final: contract.final,
            paidTokens: contract.paid.keys.filter { $0.participant == participant }.map(\.token).sorted(),
            slashed: contract.slashed.keys.sorted(), compensated: contract.compensated.filter { $0.victim == participant })
    }

    /// A chain-time anchor for the newest block, signed by the funding key.
    func anchor() -> ChainAnchor { funding.signAnchor(channel: channel, height: height) }

    /// Whether blocks are being produced empty because of congestion.
    func isCongested(at now: SimInstant) -> Bool { now < congestedUntil }

    /// Produces a block at `now`: executes up to `blockTxsMax` waiting transactions in order
    /// and returns the receipts to deliver.
    func produceBlock(at now: SimInstant) -> [(to: Int, receipt: DepositReceipt)] {
        height += 1
        blockTimes.append(now)
        guard !isCongested(at: now) else {
            congestedBlocks += 1
            return []
        }
        var out = [(to: Int, receipt: DepositReceipt)]()
        var included = 0
        while included < SimChain.blockTxsMax, let tx = mempool.popFirst() {
            included += 1
            switch tx.body {
            case let .deposit(request, token, amount):
                if let receipt = executeDeposit(from: tx.from, request: request, token: token, amount: amount) {
                    out.append((tx.from, receipt))
                }
            case let .tx(body):
                execute(body, from: tx.from, submittedAt: tx.submittedAt, at: now)
            }
        }
        return out
    }

    private func executeDeposit(from: Int, request: UInt64, token: TokenID, amount: Amount) -> DepositReceipt? {
        let key = UInt64(from) << 40 | request
        if let existing = issued[key] { return existing }
        let participant = ParticipantIndex(from)
        guard issued.count < SimChain.receiptsMax, unbacked || deposit(participant, token, amount) else {
            refused += 1
            return nil
        }
        let receipt = sign(participant, token, amount)
        issued[key] = receipt
        return receipt
    }

    private func execute(_ tx: ChainTx, from: Int, submittedAt: SimInstant, at now: SimInstant) {
        var paidKey: AccountKey?
        var compensationToken: TokenID?
        switch tx {
        case let .claim(proof): paidKey = proof.key
        case let .compensate(token, _): compensationToken = token
        case .register, .propose, .challenge, .finalize, .exit, .slash: break
        }
        let result = call(.tx(tx, from: from, height: height)) { () throws(ContractError) -> Amount? in
            switch tx {
            case let .register(signed): try self.contract.registerCheckpoint(signed)
            case let .propose(signed): try self.contract.propose(signed, height: self.height, proposer: ParticipantIndex(from))
            case let .challenge(signed): try self.contract.challenge(signed, height: self.height)
            case .finalize: try self.contract.finalize(height: self.height)
            case let .claim(proof): return try self.contract.claim(proof)
            case let .exit(signed): try self.contract.exit(signed, height: self.height, by: ParticipantIndex(from))
            case let .slash(evidence): return try self.contract.slash(evidence).amount
            case let .compensate(token, culprit): return try self.contract.claimCompensation(victim: ParticipantIndex(from), token: token, culprit: culprit)
            }
            return nil
        }
        var amount: Amount?
        var refusal: ContractError?
        switch result {
        case let .success(paid): amount = paid
        case let .failure(error):
            refusal = error
            refused += 1
        }
        guard records.count < SimChain.recordsMax else { return }
        records.append(ChainRecord(
            height: height, timeMicros: now.micros, from: from, kind: tx.kind, version: tx.version,
            participant: paidKey.map { Int($0.participant) } ?? compensationToken.map { _ in from }, token: paidKey?.token ?? compensationToken,
            amount: amount.map { String($0) },
            refusal: refusal.map { "\($0)" }, submittedMicros: submittedAt.micros, culprit: tx.culprit))
    }

    private func sign(_ participant: ParticipantIndex, _ token: TokenID, _ amount: Amount) -> DepositReceipt {
        defer {
            nextNonce += 1
            receiptsIssued += 1
        }
        return funding.signReceipt(channel: channel, participant: participant, token: token, amount: amount, nonce: nextNonce, height: height)
    }
}

import ChannelCore
import Collections

/// The simulated chain. Fault model: transactions wait in a mempool and execute only when a
/// block includes them (one block per `blockInterval`, at most `blockTxsMax` transactions);
/// a congestion fault stops inclusion until a given time. Chain time is block height. The
/// chain hosts the settlement contract; for now it executes deposit requests (funds locked in
/// the contract, a receipt signed by the funding key sent back), the rest of the contract's
/// calls join in the settlement step of issue 4.
public final class SimChain {
    /// A transaction waiting for a block.
    struct Pending {
        let from: Int
        let request: UInt64
        let token: TokenID
        let amount: Amount
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
    /// Most transactions one block includes.
    public static let blockTxsMax = 256
    /// Most transactions waiting in the mempool; beyond it, new ones are dropped.
    public static let mempoolTxsMax = 100_000
    /// Most receipts the chain remembers for deduplication.
    public static let receiptsMax = 10_000_000

    /// Planted bug: sign receipts without locking the funds.
    let unbacked: Bool

    init(funding: KeyPair, config: ChannelConfig, params: SettlementParams, unbacked: Bool = false) {
        self.unbacked = unbacked
        self.funding = funding
        channel = config.channel
        contract = SettlementContract(config: config, params: params)
    }

    /// A genesis deposit at height 1: locked in the contract, receipt returned at once.
    func genesisDeposit(for participant: ParticipantIndex, token: TokenID, amount: Amount) -> DepositReceipt? {
        guard (try? contract.deposit(participant, token: token, amount: amount)) != nil else { return nil }
        return sign(participant, token, amount)
    }

    /// Queues a deposit request; `false` when the mempool is full or the request is malformed.
    func submitDeposit(from participant: Int, request: UInt64, token: TokenID, amount: Amount) -> Bool {
        guard mempool.count < SimChain.mempoolTxsMax, request < 1 << 40 else { return false }
        mempool.append(Pending(from: participant, request: request, token: token, amount: amount))
        return true
    }

    /// Stops inclusion until `until`.
    func congest(until: SimInstant) { congestedUntil = max(congestedUntil, until) }

    /// Whether blocks are being produced empty because of congestion.
    func isCongested(at now: SimInstant) -> Bool { now < congestedUntil }

    /// Produces a block at `now`: executes up to `blockTxsMax` waiting transactions in order
    /// and returns the receipts to deliver.
    func produceBlock(at now: SimInstant) -> [(to: Int, receipt: DepositReceipt)] {
        height += 1
        guard !isCongested(at: now) else { return [] }
        var out = [(to: Int, receipt: DepositReceipt)]()
        var included = 0
        while included < SimChain.blockTxsMax, let tx = mempool.popFirst() {
            included += 1
            let key = UInt64(tx.from) << 40 | tx.request
            if let existing = issued[key] {
                out.append((tx.from, existing))
                continue
            }
            let participant = ParticipantIndex(tx.from)
            guard issued.count < SimChain.receiptsMax,
                unbacked || (try? contract.deposit(participant, token: tx.token, amount: tx.amount)) != nil
            else {
                refused += 1
                continue
            }
            let receipt = sign(participant, tx.token, tx.amount)
            issued[key] = receipt
            out.append((tx.from, receipt))
        }
        return out
    }

    private func sign(_ participant: ParticipantIndex, _ token: TokenID, _ amount: Amount) -> DepositReceipt {
        defer {
            nextNonce += 1
            receiptsIssued += 1
        }
        return funding.signReceipt(channel: channel, participant: participant, token: token, amount: amount, nonce: nextNonce, height: height)
    }
}

import ChannelCore

/// The chain as the simulator's placeholder process: it produces blocks at an interval (chain
/// time is block height) and answers deposit requests with receipts signed by the channel's
/// funding key. The settlement contract joins it in a later issue.
public final class ChainStub {
    let funding: KeyPair
    let channel: ChannelID
    public private(set) var height: UInt64 = 1
    private var nextNonce: UInt64 = 1
    public private(set) var receiptsIssued = 0
    /// Receipts by (participant, request): a duplicated request gets the same receipt again.
    private var issued: [UInt64: DepositReceipt] = [:]
    /// Most receipts the stub remembers.
    public static let receiptsMax = 10_000_000

    init(funding: KeyPair, channel: ChannelID) {
        self.funding = funding
        self.channel = channel
    }

    /// A new block.
    func produceBlock() { height += 1 }

    /// The receipt for `participant`'s deposit request `request`, issued once.
    func receipt(for participant: ParticipantIndex, request: UInt64, token: TokenID, amount: Amount) -> DepositReceipt? {
        // The contract refuses what it cannot hold: amounts outside the wire range, and
        // request ids beyond the table's key space.
        guard request < 1 << 40, amount >= 1, amount <= WireLimits.amountMax else { return nil }
        let key = UInt64(participant) << 40 | request
        if let existing = issued[key] { return existing }
        guard issued.count < ChainStub.receiptsMax else { return nil }
        let fresh = receipt(for: participant, token: token, amount: amount)
        issued[key] = fresh
        return fresh
    }

    /// A signed receipt for funds `participant` locked on chain.
    func receipt(for participant: ParticipantIndex, token: TokenID, amount: Amount) -> DepositReceipt {
        defer {
            nextNonce += 1
            receiptsIssued += 1
        }
        return funding.signReceipt(channel: channel, participant: participant, token: token, amount: amount, nonce: nextNonce, height: height)
    }
}

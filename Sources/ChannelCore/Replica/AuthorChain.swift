/// Builds one author's chain of signed operations: `seq` counts up from 1 and every
/// operation cites the author's previous one plus the other heads it chooses.
public struct AuthorChain: Sendable {
    public let channel: ChannelID
    public let author: ParticipantIndex
    public let key: KeyPair
    /// What its signatures cover (`.channelBound` except under a planted bug).
    public let scope: SignatureScope
    /// The seq of the next operation.
    public private(set) var nextSeq: UInt64 = 1
    /// The author's last operation, cited by the next one.
    public private(set) var last: OperationID?

    public init(channel: ChannelID, author: ParticipantIndex, key: KeyPair, scope: SignatureScope = .channelBound) {
        self.channel = channel
        self.author = author
        self.key = key
        self.scope = scope
    }

    /// A chain that continues after `last`, the author's newest operation (`nil`: a new chain).
    /// Used when a node restarts from its durable log.
    public init(channel: ChannelID, author: ParticipantIndex, key: KeyPair, scope: SignatureScope = .channelBound, resumingAfter last: SignedOperation?) {
        self.init(channel: channel, author: author, key: key, scope: scope)
        if let last {
            precondition(last.author == author, "resume from an own operation")
            nextSeq = last.seq + 1
            self.last = last.id
        }
    }

    /// Signs the next operation of the chain.
    /// - Parameters:
    ///   - payload: what it does.
    ///   - otherPreds: other authors' operations to cite (at most `WireLimits.predsMax - 1`).
    public mutating func append(_ payload: Payload, citing otherPreds: [OperationID] = []) -> SignedOperation {
        let op = peek(payload, citing: otherPreds)
        nextSeq += 1
        last = op.id
        return op
    }

    /// Signs what `append` would, without advancing the chain (a fork when both are sent).
    public func peek(_ payload: Payload, citing otherPreds: [OperationID] = []) -> SignedOperation {
        var preds = otherPreds
        if let last { preds.append(last) }
        precondition(Set(preds).count <= WireLimits.predsMax, "too many predecessors")
        return UnsignedOperation(channel: channel, author: author, seq: nextSeq, preds: preds, payload: payload)
            .signed(by: key, scope: scope)
    }

    /// Moves the chain to continue after `op` (an own operation with `seq == nextSeq`).
    public mutating func adopt(_ op: SignedOperation) {
        precondition(op.author == author && op.seq == nextSeq, "adopt needs the next own operation")
        nextSeq += 1
        last = op.id
    }
}

extension KeyPair {
    /// Signs a deposit receipt as the channel's funding key.
    public func signReceipt(
        channel: ChannelID, participant: ParticipantIndex, token: TokenID, amount: Amount, nonce: UInt64, height: UInt64
    ) -> DepositReceipt {
        let digest = DepositReceipt.digest(
            channel: channel, participant: participant, token: token, amount: amount, nonce: nonce, height: height)
        return DepositReceipt(token: token, amount: amount, nonce: nonce, height: height, signature: sign(digest))
    }

    /// Signs a chain-time anchor as the channel's funding key.
    public func signAnchor(channel: ChannelID, height: UInt64) -> ChainAnchor {
        ChainAnchor(height: height, signature: sign(ChainAnchor.digest(channel: channel, height: height)))
    }
}

/// The id of an operation: BLAKE2b-256 of its canonical unsigned bytes (never its signature).
public typealias OperationID = Digest32
/// The id of a channel; part of every operation and of every signed digest.
public typealias ChannelID = Digest32
/// A participant, by its index in the channel's participant list.
public typealias ParticipantIndex = UInt32
/// A token, by its number in the channel configuration.
public typealias TokenID = UInt32
/// An amount of a token in its smallest unit. Money is never floating point.
public typealias Amount = UInt128

/// A chain-signed receipt for funds locked in the settlement contract; a deposit operation
/// cites one to credit its author's balance. The participant is the operation's author and
/// the channel is the operation's channel, so neither is repeated on the wire.
public struct DepositReceipt: Hashable, Sendable {
    public var token: TokenID
    public var amount: Amount
    /// Unique per channel: a receipt can be used once.
    public var nonce: UInt64
    /// The chain height at which the funds were locked; also cites chain time.
    public var height: UInt64
    /// The funding key's signature over `DepositReceipt.digest`.
    public var signature: Signature

    public init(token: TokenID, amount: Amount, nonce: UInt64, height: UInt64, signature: Signature) {
        self.token = token
        self.amount = amount
        self.nonce = nonce
        self.height = height
        self.signature = signature
    }

    /// The digest the funding key signs.
    public static func digest(
        channel: ChannelID, participant: ParticipantIndex, token: TokenID, amount: Amount,
        nonce: UInt64, height: UInt64
    ) -> Digest32 {
        var input = [UInt8]()
        channel.appendBytes(to: &input)
        input.appendBigEndian(participant)
        input.appendBigEndian(token)
        input.appendBigEndian(amount)
        input.appendBigEndian(nonce)
        input.appendBigEndian(height)
        return Blake2b.hash256(domain: .depositReceipt, input)
    }
}

/// A chain-signed block height: the only source of time that ledger rules may use.
public struct ChainAnchor: Hashable, Sendable {
    public var height: UInt64
    public var signature: Signature

    public init(height: UInt64, signature: Signature) {
        self.height = height
        self.signature = signature
    }

    /// The digest the funding (chain) key signs.
    public static func digest(channel: ChannelID, height: UInt64) -> Digest32 {
        var input = [UInt8]()
        channel.appendBytes(to: &input)
        input.appendBigEndian(height)
        return Blake2b.hash256(domain: .chainAnchor, input)
    }
}

/// What an operation does to the ledgers.
public enum Payload: Hashable, Sendable {
    /// Credit the author with funds locked on chain, proven by a receipt.
    case deposit(DepositReceipt)
    /// Move `amount` of `token` from the author to `to`.
    case transfer(to: ParticipantIndex, token: TokenID, amount: Amount)
    /// Take `amount` of `token` out of the channel (paid out at settlement).
    case withdraw(token: TokenID, amount: Amount)
    /// Lock `amount` of `token` until chain height `untilHeight`; the lock id is the operation id.
    case lock(token: TokenID, amount: Amount, untilHeight: UInt64)
    /// Release a lock of the author's once the cited chain time reaches its height.
    case unlock(lockID: OperationID)
    /// Cite a chain-signed height, advancing the chain time of everything after it.
    case chainAnchor(ChainAnchor)
    /// An operation of an application (the order book, ...): its kind and canonical body.
    case application(ApplicationPayload)

    /// The wire tag of the payload kind (an application's own kind for `.application`).
    public var kindByte: UInt8 {
        if case let .application(payload) = self { return payload.kind }
        return kind!.rawValue
    }

    /// The balance ledger's payload kind; `nil` for an application's operation.
    public var kind: PayloadKind? {
        switch self {
        case .deposit: return .deposit
        case .transfer: return .transfer
        case .withdraw: return .withdraw
        case .lock: return .lock
        case .unlock: return .unlock
        case .chainAnchor: return .chainAnchor
        case .application: return nil
        }
    }
}

/// Wire tags of payload kinds.
public enum PayloadKind: UInt8, Sendable, CaseIterable {
    case deposit = 0x01
    case transfer = 0x02
    case withdraw = 0x03
    case lock = 0x04
    case unlock = 0x05
    case chainAnchor = 0x06
}

/// What an operation's signature covers.
public enum SignatureScope: Sendable, Hashable {
    /// The channel id and the operation id (which hashes the channel as well): the rule.
    case channelBound
    /// The operation's fields without its channel: the planted bug `sign-without-channel-id`.
    /// A signature made in one channel then verifies for the same fields relabelled to any
    /// other channel with the same participant keys (a cross-channel replay).
    case channelOmitted
}

/// An operation before signing.
public struct UnsignedOperation: Hashable, Sendable {
    public var channel: ChannelID
    public var author: ParticipantIndex
    /// Position in the author's chain, from 1.
    public var seq: UInt64
    /// Sorted, distinct ids of the author's previous operation and other heads it knew.
    public var preds: [OperationID]
    public var payload: Payload

    /// Creates an operation; `preds` are sorted and de-duplicated into canonical form.
    public init(channel: ChannelID, author: ParticipantIndex, seq: UInt64, preds: [OperationID], payload: Payload) {
        self.channel = channel
        self.author = author
        self.seq = seq
        self.preds = Array(Set(preds)).sorted()
        self.payload = payload
    }

    /// Creates an operation with `preds` exactly as given (the decoder checks canonical form).
    init(channel: ChannelID, author: ParticipantIndex, seq: UInt64, canonicalPreds: [OperationID], payload: Payload) {
        self.channel = channel
        self.author = author
        self.seq = seq
        self.preds = canonicalPreds
        self.payload = payload
    }

    /// The canonical bytes (see docs/wire-format.md).
    public var canonicalBytes: [UInt8] { WireEncoder.encode(self) }

    /// The operation id: BLAKE2b-256 under the operation-id domain of the canonical bytes.
    public var id: OperationID { Blake2b.hash256(domain: .operationID, canonicalBytes) }

    /// The digest the author signs: `H(op-sig domain ‖ channel id ‖ operation id)`.
    public static func signingDigest(channel: ChannelID, id: OperationID) -> Digest32 {
        var input = [UInt8]()
        input.reserveCapacity(64)
        channel.appendBytes(to: &input)
        id.appendBytes(to: &input)
        return Blake2b.hash256(domain: .operationSignature, input)
    }

    /// The digest an author signs under `scope`. Under `.channelOmitted` it is the
    /// channel-bound digest of the same operation with its channel zeroed, so it does not
    /// depend on the channel at all.
    public func signingDigest(scope: SignatureScope) -> Digest32 {
        switch scope {
        case .channelBound:
            return UnsignedOperation.signingDigest(channel: channel, id: id)
        case .channelOmitted:
            var unbound = self
            unbound.channel = .zero
            return UnsignedOperation.signingDigest(channel: .zero, id: unbound.id)
        }
    }

    /// Signs the operation with the author's key.
    /// - Parameter scope: what the signature covers; `.channelBound` except under the
    ///   planted bug `sign-without-channel-id`.
    public func signed(by key: KeyPair, scope: SignatureScope = .channelBound) -> SignedOperation {
        let bytes = canonicalBytes
        let id = Blake2b.hash256(domain: .operationID, bytes)
        let digest = scope == .channelBound ? UnsignedOperation.signingDigest(channel: channel, id: id) : signingDigest(scope: scope)
        return SignedOperation(unsigned: self, unsignedBytes: bytes, id: id, signature: key.sign(digest))
    }
}

/// A signed operation: the unit of the hash graph and of the wire.
public struct SignedOperation: Hashable, Sendable {
    public let unsigned: UnsignedOperation
    /// The canonical unsigned bytes, kept so that the id and wire form need no re-encoding.
    public let unsignedBytes: [UInt8]
    public let id: OperationID
    public let signature: Signature
    /// The wire form: canonical unsigned bytes followed by the 64-byte signature. Stored once,
    /// so every copy of the operation shares one buffer.
    public let wireBytes: [UInt8]

    init(unsigned: UnsignedOperation, unsignedBytes: [UInt8], id: OperationID, signature: Signature) {
        self.unsigned = unsigned
        self.unsignedBytes = unsignedBytes
        self.id = id
        self.signature = signature
        wireBytes = unsignedBytes + signature.bytes
    }

    /// Attaches `signature` to `unsigned` (valid or not; replicas verify).
    public init(unsigned: UnsignedOperation, signature: Signature) {
        let bytes = unsigned.canonicalBytes
        self.init(unsigned: unsigned, unsignedBytes: bytes, id: Blake2b.hash256(domain: .operationID, bytes), signature: signature)
    }

    public var channel: ChannelID { unsigned.channel }
    public var author: ParticipantIndex { unsigned.author }
    public var seq: UInt64 { unsigned.seq }
    public var preds: [OperationID] { unsigned.preds }
    public var payload: Payload { unsigned.payload }


    /// Strict verification of the author's signature against `key`.
    /// - Parameter scope: what the signature must cover; `.channelBound` except under the
    ///   planted bug `sign-without-channel-id`.
    public func verifySignature(key: PublicKey, scope: SignatureScope = .channelBound) -> Bool {
        switch scope {
        case .channelBound: return key.verify(signature, digest: UnsignedOperation.signingDigest(channel: channel, id: id))
        case .channelOmitted: return key.verify(signature, digest: unsigned.signingDigest(scope: scope))
        }
    }

    public static func == (lhs: SignedOperation, rhs: SignedOperation) -> Bool {
        lhs.id == rhs.id && lhs.signature == rhs.signature
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(signature)
    }
}

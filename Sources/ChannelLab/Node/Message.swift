import ChannelCore

/// One operation on the wire. Honest senders send operations they decoded or built; the
/// simulator carries the decoded value (with its canonical bytes) rather than making every
/// receiver decode the same bytes again — decoding is a pure function and `decode(encode(op))
/// == op` is tested, so this changes cost, not behaviour. Arbitrary bytes (from a Byzantine
/// sender, say) travel as `.bytes` and every receiver decodes them.
public enum WireItem: Sendable {
    case op(SignedOperation)
    case bytes([UInt8])

    /// Size on the wire.
    public var byteCount: Int {
        switch self {
        case let .op(op): return op.wireBytes.count
        case let .bytes(bytes): return bytes.count
        }
    }
}

/// What travels between processes.
public enum Message: Sendable {
    /// Signed operations: pushed gossip or the answer to a `want` or `sync`.
    case ops([WireItem])
    /// Anti-entropy: the sender's version vector and heads. The receiver sends back the
    /// operations the vector lacks (bounded batches), asks for unknown heads (fork branches),
    /// and, when `reply`, answers with its own summary so the exchange goes both ways.
    case sync(vector: [UInt64], heads: [OperationID], reply: Bool)
    /// Ids the sender is missing.
    case want([OperationID])
    /// A participant asks the chain for a deposit receipt; `request` is unique per participant,
    /// so the chain executes a duplicated request once.
    case depositRequest(request: UInt64, token: TokenID, amount: Amount)
    /// The chain's signed receipt.
    case depositReceipt(DepositReceipt)

    /// The size on the wire, in bytes: payload plus an 8-byte header per item.
    public var byteCount: Int {
        switch self {
        case let .ops(list): return 8 + list.reduce(0) { $0 + $1.byteCount + 4 }
        case let .sync(vector, ids, _): return 9 + vector.count * 8 + ids.count * 32
        case let .want(ids): return 8 + ids.count * 32
        case .depositRequest: return 8 + 20
        case .depositReceipt: return 8 + 100
        }
    }

    /// A short name for traces.
    public var kind: String {
        switch self {
        case .ops: return "ops"
        case .sync: return "sync"
        case .want: return "want"
        case .depositRequest: return "deposit-request"
        case .depositReceipt: return "deposit-receipt"
        }
    }

    /// Feeds an unambiguous description of the message to a trace hash: a tag per kind and
    /// per item, and a length before every variable-length part.
    func appendTraceBytes(to out: inout [UInt8]) {
        switch self {
        case let .ops(list):
            out.append(1)
            out.appendBigEndian(UInt32(list.count))
            for item in list {
                switch item {
                case let .op(op):
                    out.append(0)
                    op.id.appendBytes(to: &out)
                    out.append(contentsOf: op.signature.bytes)
                case let .bytes(bytes):
                    out.append(1)
                    out.appendBigEndian(UInt32(bytes.count))
                    out.append(contentsOf: bytes)
                }
            }
        case let .sync(vector, ids, reply):
            out.append(2)
            out.append(reply ? 1 : 0)
            out.appendBigEndian(UInt32(vector.count))
            for seq in vector { out.appendBigEndian(seq) }
            out.appendBigEndian(UInt32(ids.count))
            for id in ids { id.appendBytes(to: &out) }
        case let .want(ids):
            out.append(3)
            out.appendBigEndian(UInt32(ids.count))
            for id in ids { id.appendBytes(to: &out) }
        case let .depositRequest(request, token, amount):
            out.append(4)
            out.appendBigEndian(request)
            out.appendBigEndian(token)
            out.appendBigEndian(amount)
        case let .depositReceipt(receipt):
            out.append(5)
            out.appendBigEndian(receipt.token)
            out.appendBigEndian(receipt.amount)
            out.appendBigEndian(receipt.nonce)
            out.appendBigEndian(receipt.height)
            out.append(contentsOf: receipt.signature.bytes)
        }
    }
}

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
    /// A checkpoint round's coordinator asks for signatures. A `final` checkpoint (settlement)
    /// is signed only by a node whose whole state it is.
    indirect case checkpointRequest(Checkpoint, final: Bool, previous: SignedCheckpoint?)
    /// A participant's signature of the checkpoint with this version.
    indirect case checkpointSignature(version: UInt64, CheckpointSignature)
    /// A threshold-signed checkpoint (sent by the coordinator, and on anti-entropy).
    indirect case certificate(SignedCheckpoint)
    /// A transaction for the chain.
    indirect case chainTx(ChainTx)
    /// The chain's status after a block.
    indirect case chainStatus(ChainStatus)
    /// A chain-time anchor the chain signed for its newest block (sent after every block when a
    /// workload cites chain time: `anchor` or `unlock` in its mix).
    case chainAnchor(ChainAnchor)

    /// The size on the wire, in bytes: payload plus an 8-byte header per item.
    public var byteCount: Int {
        switch self {
        case let .ops(list): return 8 + list.reduce(0) { $0 + $1.byteCount + 4 }
        case let .sync(vector, ids, _): return 9 + vector.count * 8 + ids.count * 32
        case let .want(ids): return 8 + ids.count * 32
        case .depositRequest: return 8 + 20
        case .depositReceipt: return 8 + 100
        case let .checkpointRequest(checkpoint, _, previous): return 9 + 92 + checkpoint.heads.count * 32 + (previous?.byteCount ?? 0)
        case .checkpointSignature: return 8 + 8 + 4 + 64
        case let .certificate(signed): return 8 + signed.byteCount
        case let .chainTx(tx): return 8 + tx.byteCount
        case let .chainStatus(status): return 8 + status.byteCount
        case .chainAnchor: return 8 + 8 + 64
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
        case .checkpointRequest: return "checkpoint-request"
        case .checkpointSignature: return "checkpoint-signature"
        case .certificate: return "certificate"
        case let .chainTx(tx): return "chain-tx-\(tx.kind)"
        case .chainStatus: return "chain-status"
        case .chainAnchor: return "chain-anchor"
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
        case let .checkpointRequest(checkpoint, final, previous):
            out.append(6)
            out.append(final ? 1 : 0)
            checkpoint.digest.appendBytes(to: &out)
            if let previous { previous.appendTraceBytes(to: &out) } else { out.append(0) }
        case let .checkpointSignature(version, signature):
            out.append(7)
            out.appendBigEndian(version)
            out.appendBigEndian(signature.signer)
            out.append(contentsOf: signature.signature.bytes)
        case let .certificate(signed):
            out.append(8)
            signed.appendTraceBytes(to: &out)
        case let .chainTx(tx):
            out.append(9)
            tx.appendTraceBytes(to: &out)
        case let .chainStatus(status):
            out.append(10)
            out.appendBigEndian(status.height)
            out.appendBigEndian(status.latestVersion)
            out.appendBigEndian(status.deadline)
            for signed in [status.proposal, status.final] {
                if let signed { signed.appendTraceBytes(to: &out) } else { out.append(0) }
            }
            out.appendBigEndian(UInt32(status.paidTokens.count))
            for token in status.paidTokens { out.appendBigEndian(token) }
            out.appendBigEndian(UInt32(status.slashed.count))
            for index in status.slashed { out.appendBigEndian(index) }
        case let .chainAnchor(anchor):
            out.append(11)
            out.appendBigEndian(anchor.height)
            out.append(contentsOf: anchor.signature.bytes)
        }
    }
}

extension SignedCheckpoint {
    /// Tag, digest, then each signer and signature.
    func appendTraceBytes(to out: inout [UInt8]) {
        out.append(1)
        checkpoint.digest.appendBytes(to: &out)
        out.appendBigEndian(UInt32(signatures.count))
        for entry in signatures {
            out.appendBigEndian(entry.signer)
            out.append(contentsOf: entry.signature.bytes)
        }
    }
}

extension ChainTx {
    /// Tag per kind, then the kind's content.
    func appendTraceBytes(to out: inout [UInt8]) {
        switch self {
        case let .register(signed): out.append(1); signed.appendTraceBytes(to: &out)
        case let .propose(signed): out.append(2); signed.appendTraceBytes(to: &out)
        case let .challenge(signed): out.append(3); signed.appendTraceBytes(to: &out)
        case .finalize: out.append(4)
        case let .claim(proof): out.append(5); proof.appendTraceBytes(to: &out)
        case let .exit(signed): out.append(6); signed.appendTraceBytes(to: &out)
        case let .slash(evidence):
            out.append(7)
            let key = evidence.sortKey
            out.append(key.0)
            key.1.appendBytes(to: &out)
            key.2.appendBytes(to: &out)
        case let .compensate(token, culprit):
            out.append(8)
            out.appendBigEndian(token)
            out.appendBigEndian(culprit)
        }
    }
}

extension BalanceProof {
    func appendTraceBytes(to out: inout [UInt8]) {
        out.append(contentsOf: BalanceLedger.accountLeaf(key, account))
        out.appendBigEndian(leafIndex)
        out.appendBigEndian(treeSize)
        out.appendBigEndian(UInt32(path.count))
        for digest in path { digest.appendBytes(to: &out) }
    }
}


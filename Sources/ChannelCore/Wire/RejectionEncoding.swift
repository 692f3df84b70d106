/// The canonical encoding of rejection records (docs/wire-format.md, "Rejection records").
///
/// Every honest replica that holds the same operations keeps the same records, reason
/// parameters included; these bytes make that comparable across implementations (golden
/// vectors) and cheap to compare between replicas (`Replica.rejectionsDigest`).
extension RejectionRecord {
    /// `id ‖ u32 author ‖ u64 seq ‖ u8 class ‖ u8 reason code ‖ reason parameters`.
    public var canonicalBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32 + 4 + 8 + 2 + 32)
        id.appendBytes(to: &out)
        out.appendBigEndian(author)
        out.appendBigEndian(seq)
        out.append(kind.code)
        reason.appendCanonicalBytes(to: &out)
        return out
    }
}

extension RejectionClass {
    /// Wire code: 1 invalid in causal past, 2 concurrent conflict, 3 void.
    public var code: UInt8 {
        switch self {
        case .invalidInCausalPast: return 0x01
        case .concurrentConflict: return 0x02
        case .void: return 0x03
        }
    }
}

extension Role {
    /// Wire code of the role (rejection records): trader 1, market maker 2, liquidator 3,
    /// oracle 4, observer 5.
    public var code: UInt8 {
        switch self {
        case .trader: return 0x01
        case .marketMaker: return 0x02
        case .liquidator: return 0x03
        case .oracle: return 0x04
        case .observer: return 0x05
        }
    }
}

extension RejectionReason {
    /// Appends the reason code and its parameters. Only reasons that can be on record have a
    /// code: the two attributable graph rejections and every ledger rejection.
    func appendCanonicalBytes(to out: inout [UInt8]) {
        switch self {
        case let .graph(reason):
            switch reason {
            case .brokenAuthorChain:
                out.append(0x01)
            case let .predecessorRejected(pred):
                out.append(0x02)
                pred.appendBytes(to: &out)
            case .malformed, .wrongChannel, .unknownAuthor, .badSignature, .pendingBufferFull, .authorPendingShareFull, .graphFull:
                preconditionFailure("only attributable graph rejections are on record")
            }
        case let .ledger(reason):
            switch reason {
            case let .notPermitted(role):
                out.append(0x11)
                out.append(role.code)
            case let .unknownToken(token):
                out.append(0x12)
                out.appendBigEndian(token)
            case let .unknownRecipient(to):
                out.append(0x13)
                out.appendBigEndian(to)
            case let .recipientCannotHoldFunds(to):
                out.append(0x14)
                out.appendBigEndian(to)
            case .selfTransfer:
                out.append(0x15)
            case let .insufficientBalance(available, needed):
                out.append(0x16)
                out.appendBigEndian(UInt128(bitPattern: available))
                out.appendBigEndian(needed)
            case .badChainSignature:
                out.append(0x17)
            case let .receiptAlreadyUsed(nonce):
                out.append(0x18)
                out.appendBigEndian(nonce)
            case let .unknownLock(lock):
                out.append(0x19)
                lock.appendBytes(to: &out)
            case let .lockNotOwned(lock):
                out.append(0x1A)
                lock.appendBytes(to: &out)
            case let .lockAlreadyReleased(lock):
                out.append(0x1B)
                lock.appendBytes(to: &out)
            case let .lockNotExpired(chainHeight, untilHeight):
                out.append(0x1C)
                out.appendBigEndian(chainHeight)
                out.appendBigEndian(untilHeight)
            case let .applicationNotEnabled(kind):
                out.append(0x1D)
                out.append(kind)
            case let .application(rejection):
                out.append(0x1E)
                out.append(rejection.kind)
                out.append(rejection.code)
                out.append(UInt8(rejection.parameters.count))
                out.append(contentsOf: rejection.parameters)
            }
        }
    }
}

extension Replica {
    /// A commitment to every rejection record: `H("chanlab/rejections/v1", u32 count ‖ records
    /// in id order)`. Two replicas with the same operations have the same digest.
    /// - Complexity: O(r log r) for r records.
    public var rejectionsDigest: Digest32 {
        let records = rejections
        var input = [UInt8]()
        input.appendBigEndian(UInt32(records.count))
        for record in records { input.append(contentsOf: record.canonicalBytes) }
        return Blake2b.hash256(domain: .rejections, input)
    }
}

/// The canonical encoding of operations (docs/wire-format.md). Integers are big-endian.
public enum WireEncoder {
    /// The canonical unsigned bytes of `op`.
    public static func encode(_ op: UnsignedOperation) -> [UInt8] {
        precondition(op.preds.count <= WireLimits.predsMax, "too many preds to encode")
        var out = [UInt8]()
        out.reserveCapacity(64 + op.preds.count * Digest32.byteCount + 128)
        out.append(WireLimits.version)
        op.channel.appendBytes(to: &out)
        out.appendBigEndian(op.author)
        out.appendBigEndian(op.seq)
        out.append(UInt8(op.preds.count))
        for pred in op.preds { pred.appendBytes(to: &out) }
        out.append(op.payload.kindByte)
        switch op.payload {
        case let .deposit(receipt):
            out.appendBigEndian(receipt.token)
            out.appendBigEndian(receipt.amount)
            out.appendBigEndian(receipt.nonce)
            out.appendBigEndian(receipt.height)
            out.append(contentsOf: receipt.signature.bytes)
        case let .transfer(to, token, amount):
            out.appendBigEndian(to)
            out.appendBigEndian(token)
            out.appendBigEndian(amount)
        case let .withdraw(token, amount):
            out.appendBigEndian(token)
            out.appendBigEndian(amount)
        case let .lock(token, amount, untilHeight):
            out.appendBigEndian(token)
            out.appendBigEndian(amount)
            out.appendBigEndian(untilHeight)
        case let .unlock(lockID):
            lockID.appendBytes(to: &out)
        case let .chainAnchor(anchor):
            out.appendBigEndian(anchor.height)
            out.append(contentsOf: anchor.signature.bytes)
        case let .application(payload):
            out.append(contentsOf: payload.body)
        }
        return out
    }
}

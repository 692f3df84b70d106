import ChannelCore

/// `invalid: non-canonical`: own operations re-encoded with one defect each (docs/byzantine.md).
extension ByzantineActor {
    /// Defects `invalid: non-canonical` cycles through.
    static let nonCanonicalVariants = 13

    /// `op` (an own operation) re-encoded with one defect and re-signed for exactly those bytes
    /// (the id is the hash of the bytes as sent), so only the decoder stands between them and a
    /// replica: 0 preds out of order, 1 a duplicate pred, 2 a trailing byte after the
    /// signature, 3 version 2, 4 amount 0, 5 amount 2^96, 6 seq 0, 7 17 preds, 8 payload kind
    /// 0x07, 9 the signature's last byte missing.
    func nonCanonical(variant: Int, of op: SignedOperation, key: KeyPair) -> [UInt8] {
        let u = op.unsigned
        var preds = u.preds
        let amount: [UInt8]
        var kind = PayloadKind.transfer.rawValue
        var payload = [UInt8]()
        switch u.payload {
        case let .transfer(to, token, value):
            payload.appendBigEndian(to)
            payload.appendBigEndian(token)
            var encoded = [UInt8]()
            encoded.appendBigEndian(variant == 4 ? 0 : variant == 5 ? UInt128(1) << 96 : value)
            amount = encoded
        case .deposit, .withdraw, .lock, .unlock, .chainAnchor, .application:
            preconditionFailure("non-canonical encodings are made of transfers")
        }
        payload += amount
        switch variant {
        case 0: preds = preds.count >= 2 ? preds.reversed() : preds.isEmpty ? [u.channel, u.channel] : preds + preds
        case 1: preds = preds.isEmpty ? [u.channel, u.channel] : [preds[0]] + preds
        case 7: preds = (0..<17).map { Digest32(w0: UInt64($0), w1: 7, w2: 7, w3: 7) }
        case 8: kind = 0x07
        default: break
        }
        var bytes: [UInt8] = [variant == 3 ? 2 : 1]
        u.channel.appendBytes(to: &bytes)
        bytes.appendBigEndian(u.author)
        bytes.appendBigEndian(variant == 6 ? 0 : u.seq)
        bytes.append(UInt8(preds.count))
        for pred in preds { pred.appendBytes(to: &bytes) }
        bytes.append(kind)
        bytes += payload
        let id = Blake2b.hash256(domain: .operationID, bytes)
        var wire = bytes + key.sign(UnsignedOperation.signingDigest(channel: u.channel, id: id)).bytes
        if variant == 2 { wire.append(0) }
        if variant == 9 { wire.removeLast() }
        return wire
    }

}

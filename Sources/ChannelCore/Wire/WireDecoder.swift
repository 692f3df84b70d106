/// Decodes canonical operation bytes. Rejects non-canonical, truncated, oversized and
/// trailing input with a `WireError`; never traps on any input.
public enum WireDecoder {
    /// Decodes a signed operation: canonical unsigned bytes followed by a 64-byte signature.
    /// The signature is not verified here (that needs the author's key).
    /// - Complexity: O(`bytes.count`), bounded by `WireLimits.operationBytesMax`.
    public static func decodeSigned(_ bytes: [UInt8]) throws(WireError) -> SignedOperation {
        guard bytes.count <= WireLimits.operationBytesMax else {
            throw .oversized(bytes: bytes.count, max: WireLimits.operationBytesMax)
        }
        var reader = ByteReader(bytes)
        let unsigned = try decodeUnsignedFields(&reader)
        let unsignedEnd = reader.offset
        let signature = Signature(bytes: Array(try reader.take(Signature.byteCount, field: "signature")))!
        guard reader.remaining == 0 else { throw .trailingBytes(count: reader.remaining) }
        let unsignedBytes = Array(bytes[0..<unsignedEnd])
        return SignedOperation(
            unsigned: unsigned, unsignedBytes: unsignedBytes,
            id: Blake2b.hash256(domain: .operationID, unsignedBytes), signature: signature)
    }

    /// Decodes canonical unsigned operation bytes (no signature follows).
    public static func decodeUnsigned(_ bytes: [UInt8]) throws(WireError) -> UnsignedOperation {
        guard bytes.count <= WireLimits.operationBytesMax else {
            throw .oversized(bytes: bytes.count, max: WireLimits.operationBytesMax)
        }
        var reader = ByteReader(bytes)
        let op = try decodeUnsignedFields(&reader)
        guard reader.remaining == 0 else { throw .trailingBytes(count: reader.remaining) }
        return op
    }

    private static func decodeUnsignedFields(_ reader: inout ByteReader) throws(WireError) -> UnsignedOperation {
        let version = try reader.u8(field: "version")
        guard version == WireLimits.version else { throw .unsupportedVersion(version) }
        let channel = try reader.digest(field: "channel")
        let author = try reader.u32(field: "author")
        let seq = try reader.u64(field: "seq")
        guard seq >= 1 else { throw .seqZero }
        let predCount = Int(try reader.u8(field: "predCount"))
        guard predCount <= WireLimits.predsMax else {
            throw .tooManyPreds(count: predCount, max: WireLimits.predsMax)
        }
        var preds = [OperationID]()
        preds.reserveCapacity(predCount)
        for index in 0..<predCount {
            let pred = try reader.digest(field: "preds[\(index)]")
            if let last = preds.last, !(last < pred) { throw .predsNotCanonical(index: index) }
            preds.append(pred)
        }
        let kindByte = try reader.u8(field: "payloadKind")
        let payload: Payload
        if let kind = PayloadKind(rawValue: kindByte) {
            payload = try decodePayload(kind, &reader)
        } else {
            payload = .application(try ApplicationRegistry.decodePayload(kind: kindByte, from: &reader))
        }
        return UnsignedOperation(channel: channel, author: author, seq: seq, canonicalPreds: preds, payload: payload)
    }

    private static func decodePayload(_ kind: PayloadKind, _ reader: inout ByteReader) throws(WireError) -> Payload {
        switch kind {
        case .deposit:
            let token = try reader.u32(field: "deposit.token")
            let amount = try reader.amount(field: "deposit.amount")
            let nonce = try reader.u64(field: "deposit.nonce")
            let height = try reader.u64(field: "deposit.height")
            let signature = Signature(bytes: Array(try reader.take(Signature.byteCount, field: "deposit.signature")))!
            return .deposit(DepositReceipt(token: token, amount: amount, nonce: nonce, height: height, signature: signature))
        case .transfer:
            let to = try reader.u32(field: "transfer.to")
            let token = try reader.u32(field: "transfer.token")
            let amount = try reader.amount(field: "transfer.amount")
            return .transfer(to: to, token: token, amount: amount)
        case .withdraw:
            let token = try reader.u32(field: "withdraw.token")
            let amount = try reader.amount(field: "withdraw.amount")
            return .withdraw(token: token, amount: amount)
        case .lock:
            let token = try reader.u32(field: "lock.token")
            let amount = try reader.amount(field: "lock.amount")
            let untilHeight = try reader.u64(field: "lock.untilHeight")
            return .lock(token: token, amount: amount, untilHeight: untilHeight)
        case .unlock:
            return .unlock(lockID: try reader.digest(field: "unlock.lockID"))
        case .chainAnchor:
            let height = try reader.u64(field: "anchor.height")
            let signature = Signature(bytes: Array(try reader.take(Signature.byteCount, field: "anchor.signature")))!
            return .chainAnchor(ChainAnchor(height: height, signature: signature))
        }
    }
}

extension UnsignedOperation {
    /// Checks the field rules the canonical encoding enforces (seq ≥ 1, at most
    /// `WireLimits.predsMax` strictly ascending preds, amounts in `1...amountMax`). The decoder
    /// enforces them while reading; replicas call this for operations built in memory, so an
    /// operation that could never arrive as bytes is refused the same way.
    public func validate() throws(WireError) {
        guard seq >= 1 else { throw .seqZero }
        guard preds.count <= WireLimits.predsMax else { throw .tooManyPreds(count: preds.count, max: WireLimits.predsMax) }
        for index in preds.indices.dropFirst() where !(preds[index - 1] < preds[index]) {
            throw .predsNotCanonical(index: index)
        }
        func check(_ amount: Amount, _ field: String) throws(WireError) {
            guard amount >= 1 && amount <= WireLimits.amountMax else { throw .amountOutOfRange(field: field) }
        }
        switch payload {
        case let .deposit(receipt): try check(receipt.amount, "deposit.amount")
        case let .transfer(_, _, amount): try check(amount, "transfer.amount")
        case let .withdraw(_, amount): try check(amount, "withdraw.amount")
        case let .lock(_, amount, _): try check(amount, "lock.amount")
        case .unlock, .chainAnchor: break
        case let .application(body): try ApplicationRegistry.validate(body)
        }
    }
}

/// A bounds-checked big-endian reader over a byte array: every read names its field, and
/// running out of bytes is a typed `WireError.truncated`, never a trap. Application codecs
/// read their bodies with it.
public struct ByteReader {
    private let bytes: [UInt8]
    /// The position of the next byte to read.
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// The bytes from `start` to the current position.
    func bytes(from start: Int) -> [UInt8] { Array(bytes[start..<offset]) }

    /// The next `count` bytes of `field`.
    public mutating func take(_ count: Int, field: String) throws(WireError) -> ArraySlice<UInt8> {
        precondition(count >= 0)
        guard remaining >= count else { throw .truncated(field: field, offset: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func u8(field: String) throws(WireError) -> UInt8 {
        try take(1, field: field).first!
    }

    public mutating func u16(field: String) throws(WireError) -> UInt16 { try integer(field: field) }
    public mutating func u32(field: String) throws(WireError) -> UInt32 { try integer(field: field) }
    public mutating func u64(field: String) throws(WireError) -> UInt64 { try integer(field: field) }

    /// An amount, which must be in `1...WireLimits.amountMax`.
    public mutating func amount(field: String) throws(WireError) -> Amount {
        let value: UInt128 = try integer(field: field)
        guard value >= 1 && value <= WireLimits.amountMax else { throw .amountOutOfRange(field: field) }
        return value
    }

    public mutating func digest(field: String) throws(WireError) -> Digest32 {
        Digest32(bytes: try take(Digest32.byteCount, field: field))
    }

    private mutating func integer<T: FixedWidthInteger & UnsignedInteger>(field: String) throws(WireError) -> T {
        var value: T = 0
        for byte in try take(T.bitWidth / 8, field: field) {
            value = value << 8 | T(byte)
        }
        return value
    }
}

/// Why bytes are not a canonical encoding of an operation. Hostile input always ends here,
/// never in a trap.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input is longer than `WireLimits.operationBytesMax`.
    case oversized(bytes: Int, max: Int)
    /// The input ended inside `field`, which starts at byte `offset`.
    case truncated(field: String, offset: Int)
    /// Bytes follow a complete operation.
    case trailingBytes(count: Int)
    /// The version byte is not `WireLimits.version`.
    case unsupportedVersion(UInt8)
    /// The payload kind byte is not a known `PayloadKind`.
    case unknownPayloadKind(UInt8)
    /// More predecessors than `WireLimits.predsMax`.
    case tooManyPreds(count: Int, max: Int)
    /// Predecessor `index` is not strictly greater than the one before (unsorted or duplicate).
    case predsNotCanonical(index: Int)
    /// `seq` is 0; author chains start at 1.
    case seqZero
    /// An amount is 0 or above `WireLimits.amountMax`.
    case amountOutOfRange(field: String)
    /// An application's field holds a value its codec does not allow.
    case invalidField(field: String, reason: String)

    public var description: String {
        switch self {
        case let .oversized(bytes, max): return "oversized: \(bytes) bytes, limit \(max)"
        case let .truncated(field, offset): return "truncated in \(field) at byte \(offset)"
        case let .trailingBytes(count): return "\(count) trailing bytes after the operation"
        case let .unsupportedVersion(version): return "unsupported version \(version)"
        case let .unknownPayloadKind(kind): return "unknown payload kind 0x\(String(kind, radix: 16))"
        case let .tooManyPreds(count, max): return "\(count) predecessors, limit \(max)"
        case let .predsNotCanonical(index): return "predecessor \(index) not strictly ascending"
        case .seqZero: return "seq is 0"
        case let .amountOutOfRange(field): return "\(field) out of range (must be 1...2^96-1)"
        case let .invalidField(field, reason): return "\(field): \(reason)"
        }
    }
}

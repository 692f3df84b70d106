/// A 32-byte value (a BLAKE2b-256 digest, an operation id, a channel id, a Merkle node).
///
/// Stored as four big-endian 64-bit words so that comparison is the byte-wise
/// lexicographic order of the 32 bytes, and hashing and equality are cheap.
public struct Digest32: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    /// The byte count of every `Digest32`.
    public static let byteCount = 32

    /// The all-zero value.
    public static let zero = Digest32(w0: 0, w1: 0, w2: 0, w3: 0)

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Creates a value from exactly 32 bytes.
    /// - Parameter bytes: 32 bytes, most significant first.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == Digest32.byteCount, "Digest32 needs exactly 32 bytes")
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        for byte in bytes {
            switch index / 8 {
            case 0: words.0 = words.0 << 8 | UInt64(byte)
            case 1: words.1 = words.1 << 8 | UInt64(byte)
            case 2: words.2 = words.2 << 8 | UInt64(byte)
            default: words.3 = words.3 << 8 | UInt64(byte)
            }
            index += 1
        }
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Parses 64 hexadecimal characters; `nil` on any other input.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == Digest32.byteCount else { return nil }
        self.init(bytes: bytes)
    }

    /// The 32 bytes, most significant first.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Digest32.byteCount)
        appendBytes(to: &out)
        return out
    }

    /// Appends the 32 bytes to `out` without an intermediate array.
    public func appendBytes(to out: inout [UInt8]) {
        for word in [w0, w1, w2, w3] {
            var shift: UInt64 = 56
            for _ in 0..<8 {
                out.append(UInt8(truncatingIfNeeded: word >> shift))
                shift &-= 8
            }
        }
    }

    /// Lower-case hexadecimal, 64 characters.
    public var hex: String { Hex.encode(bytes) }

    /// The first 8 hex characters, for logs and reports.
    public var short: String { String(hex.prefix(8)) }

    public var description: String { hex }

    /// Hashes the first word only: every `Digest32` in the channel is a BLAKE2b output (or a
    /// key derived from one), uniform in every word, and the hasher is seeded per process, so
    /// one word spreads keys as well as four at a quarter of the cost. Equality still compares
    /// all 32 bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
    }

    public static func < (lhs: Digest32, rhs: Digest32) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0 < rhs.w0 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        return lhs.w3 < rhs.w3
    }
}

/// Hexadecimal encoding and decoding.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal of `bytes`.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hexadecimal (either case); `nil` for odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

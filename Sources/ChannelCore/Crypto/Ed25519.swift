import CSodium

/// An Ed25519 public key (32 bytes).
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    /// Wraps 32 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == PublicKey.byteCount else { return nil }
        self.bytes = bytes
    }

    public var description: String { Hex.encode(bytes) }

    public func hash(into hasher: inout Hasher) { hashWords(bytes, into: &hasher) }
}

/// Feeds `bytes` to `hasher` eight at a time (the default hashes byte by byte).
@inline(__always)
func hashWords(_ bytes: [UInt8], into hasher: inout Hasher) {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset + 8 <= raw.count {
            hasher.combine(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        while offset < raw.count {
            hasher.combine(raw[offset])
            offset += 1
        }
    }
}

/// A detached Ed25519 signature (64 bytes).
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 64
    public let bytes: [UInt8]

    /// Wraps 64 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Signature.byteCount else { return nil }
        self.bytes = bytes
    }

    public func hash(into hasher: inout Hasher) { hashWords(bytes, into: &hasher) }

    /// A signature of 64 zero bytes: never valid, used as a placeholder in tests.
    public static let zero = Signature(bytes: [UInt8](repeating: 0, count: 64))!

    public var description: String { Hex.encode(bytes) }
}

/// Ed25519 through libsodium: deterministic key pairs, detached signing and strict verification.
///
/// Verification uses libsodium's rules (canonical S, small-order and non-canonical keys and
/// R rejected), so every replica reaches the same verdict on the same bytes.
public struct KeyPair: Sendable {
    public let publicKey: PublicKey
    /// libsodium's 64-byte secret key (seed ‖ public key).
    private let secretKey: [UInt8]

    /// The key pair whose 32-byte seed is `seed` (RFC 8032 private key).
    public init(seed: [UInt8]) {
        Sodium.ready()
        precondition(seed.count == Int(crypto_sign_SEEDBYTES), "an Ed25519 seed is 32 bytes")
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        let status = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        precondition(status == 0, "crypto_sign_seed_keypair failed")
        self.publicKey = PublicKey(bytes: publicKey)!
        self.secretKey = secretKey
    }

    /// A key pair derived deterministically from a 64-bit lab seed and a participant index:
    /// the Ed25519 seed is `BLAKE2b-256(domain key ‖ seed (u64 BE) ‖ index (u32 BE))`.
    public init(labSeed: UInt64, index: UInt32) {
        var input = [UInt8]()
        input.appendBigEndian(labSeed)
        input.appendBigEndian(index)
        self.init(seed: Blake2b.hash256(domain: .keyDerivation, input).bytes)
    }

    /// A detached signature of `message`.
    public func sign(_ message: [UInt8]) -> Signature {
        var signature = [UInt8](repeating: 0, count: Signature.byteCount)
        let status = message.withUnsafeBufferPointer { input in
            crypto_sign_detached(&signature, nil, input.baseAddress, UInt64(input.count), secretKey)
        }
        precondition(status == 0, "crypto_sign_detached failed")
        return Signature(bytes: signature)!
    }

    /// Signs a 32-byte digest.
    public func sign(_ digest: Digest32) -> Signature { sign(digest.bytes) }
}

extension PublicKey {
    /// Strict detached verification of `signature` over `message` (libsodium's verdict).
    /// - Complexity: O(`message.count`) plus one scalar multiplication.
    public func verify(_ signature: Signature, message: [UInt8]) -> Bool {
        Sodium.ready()
        let status = message.withUnsafeBufferPointer { input in
            crypto_sign_verify_detached(signature.bytes, input.baseAddress, UInt64(input.count), bytes)
        }
        return status == 0
    }

    /// Verifies a signature over a 32-byte digest.
    public func verify(_ signature: Signature, digest: Digest32) -> Bool {
        verify(signature, message: digest.bytes)
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` big-endian.
    @inlinable
    public mutating func appendBigEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}

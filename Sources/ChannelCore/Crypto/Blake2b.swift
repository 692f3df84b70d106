import CSodium

/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash`.
public enum Blake2b {
    /// Output bytes of the 256-bit variant used for every identity in the channel.
    public static let digestBytes = 32
    /// Largest output libsodium supports, in bytes.
    public static let digestBytesMax = 64
    /// Largest key libsodium supports, in bytes.
    public static let keyBytesMax = 64

    /// BLAKE2b with `outputBytes` of output and an optional key (RFC 7693 keyed mode).
    /// - Parameters:
    ///   - data: the message.
    ///   - outputBytes: 1...64.
    ///   - key: 0...64 bytes; empty means unkeyed.
    /// - Complexity: O(`data.count`).
    public static func hash(_ data: [UInt8], outputBytes: Int, key: [UInt8] = []) -> [UInt8] {
        Sodium.ready()
        precondition(outputBytes >= 1 && outputBytes <= digestBytesMax, "BLAKE2b output must be 1...64 bytes")
        precondition(key.count <= keyBytesMax, "BLAKE2b key must be at most 64 bytes")
        var out = [UInt8](repeating: 0, count: outputBytes)
        let status = data.withUnsafeBufferPointer { input in
            key.withUnsafeBufferPointer { keyBuffer in
                crypto_generichash(
                    &out, outputBytes,
                    input.baseAddress, UInt64(input.count),
                    key.isEmpty ? nil : keyBuffer.baseAddress, key.count)
            }
        }
        precondition(status == 0, "crypto_generichash failed on valid parameters")
        return out
    }

    /// BLAKE2b-256 of `data`.
    public static func hash256(_ data: [UInt8]) -> Digest32 {
        Digest32(bytes: hash(data, outputBytes: digestBytes))
    }

    /// BLAKE2b-256 of `data` under a domain separation tag: the digest of
    /// `len(tag) ‖ tag ‖ data`, so that no two domains can produce the same preimage.
    public static func hash256(domain: DomainTag, _ data: [UInt8]) -> Digest32 {
        let tag = domain.rawValue.utf8
        var input = [UInt8]()
        input.reserveCapacity(1 + tag.count + data.count)
        input.append(UInt8(tag.count))
        input.append(contentsOf: tag)
        input.append(contentsOf: data)
        return hash256(input)
    }

    /// An incremental BLAKE2b-256, used for running trace hashes and large inputs.
    ///
    /// libsodium's state must be 64-byte aligned, so it lives in its own allocation.
    public final class Hasher256 {
        private let raw: UnsafeMutableRawPointer
        private var state: OpaquePointer { OpaquePointer(raw) }
        private var finalized = false

        /// A hasher with no domain prefix.
        public init() {
            Sodium.ready()
            raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            let status = crypto_generichash_init(state, nil, 0, Blake2b.digestBytes)
            precondition(status == 0, "crypto_generichash_init failed")
        }

        /// A hasher whose input starts with the domain prefix `len(tag) ‖ tag`.
        public convenience init(domain: DomainTag) {
            self.init()
            let tag = Array(domain.rawValue.utf8)
            update([UInt8(tag.count)])
            update(tag)
        }

        deinit {
            raw.deallocate()
        }

        /// Feeds `data` to the hash.
        public func update(_ data: [UInt8]) {
            precondition(!finalized, "Hasher256 used after finalize")
            let status = data.withUnsafeBufferPointer { input in
                crypto_generichash_update(state, input.baseAddress, UInt64(input.count))
            }
            precondition(status == 0, "crypto_generichash_update failed")
        }

        /// The digest; the hasher must not be used afterwards.
        public func finalize() -> Digest32 {
            precondition(!finalized, "Hasher256 finalized twice")
            finalized = true
            var out = [UInt8](repeating: 0, count: Blake2b.digestBytes)
            let status = crypto_generichash_final(state, &out, Blake2b.digestBytes)
            precondition(status == 0, "crypto_generichash_final failed")
            return Digest32(bytes: out)
        }
    }
}

/// Domain separation tags. Each kind of signed or hashed object has its own tag so that
/// bytes meant as one kind can never be replayed as another. The channel's own are below; an
/// application registers its own (`ChannelApplication.domainTags`, in its folder), each
/// `chanlab/<what>/v<n>` and distinct from every other (checked by `allCases`' tests).
public struct DomainTag: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The tag's bytes (UTF-8), at most 255.
    public let rawValue: String

    /// A registered tag of this name, or `nil`.
    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// A tag to register (a channel's own, or an application's in its folder).
    public init(registering tag: String) {
        precondition(tag.hasPrefix("chanlab/") && tag.utf8.count <= 255, "a domain tag is chanlab/... and at most 255 bytes")
        rawValue = tag
    }

    public var description: String { rawValue }

    /// Operation id: the digest of the canonical unsigned operation bytes.
    public static let operationID = DomainTag(registering: "chanlab/op-id/v1")
    /// The digest an author signs: channel id and operation id.
    public static let operationSignature = DomainTag(registering: "chanlab/op-sig/v1")
    /// A deposit receipt signed by the channel's funding key.
    public static let depositReceipt = DomainTag(registering: "chanlab/deposit-receipt/v1")
    /// A chain-time anchor (block height) signed by the channel's funding key.
    public static let chainAnchor = DomainTag(registering: "chanlab/chain-anchor/v1")
    /// Deterministic key derivation from a seed and a participant index.
    public static let keyDerivation = DomainTag(registering: "chanlab/key/v1")
    /// A checkpoint (state root, version, heads) signed by participants.
    public static let checkpoint = DomainTag(registering: "chanlab/checkpoint/v1")
    /// Channel id derivation in the lab.
    public static let channelID = DomainTag(registering: "chanlab/channel-id/v1")
    /// A replica's rejection records, in id order (`Replica.rejectionsDigest`).
    public static let rejections = DomainTag(registering: "chanlab/rejections/v1")

    /// The channel's own tags.
    public static let channel: [DomainTag] = [.operationID, .operationSignature, .depositReceipt, .chainAnchor, .keyDerivation, .checkpoint, .channelID, .rejections]

    /// Every registered tag: the channel's own, then each application's.
    public static var allCases: [DomainTag] { channel + ApplicationRegistry.all.flatMap { $0.domainTags } }
}

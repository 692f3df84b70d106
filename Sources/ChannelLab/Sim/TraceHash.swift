import ChannelCore

/// A run's identity: a running BLAKE2b-256 over every event, in order. Optionally keeps a
/// 64-bit fingerprint (FNV-1a) and a description of each event, so that two runs can be
/// compared event by event and the first difference named.
public final class TraceHash {
    private let hasher = Blake2b.Hasher256()
    public private(set) var events = 0
    let recording: Bool
    public private(set) var fingerprints: [UInt64] = []
    public private(set) var descriptions: [String] = []

    /// Most events whose descriptions are kept when recording (fingerprints are kept for all).
    public static let descriptionsMax = 5_000_000

    init(recording: Bool) { self.recording = recording }

    /// Adds one event's canonical bytes; `describe` is called only when recording.
    func add(_ bytes: [UInt8], describe: () -> String) {
        hasher.update(bytes)
        events += 1
        if recording {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            fingerprints.append(hash)
            if descriptions.count < TraceHash.descriptionsMax { descriptions.append(describe()) }
        }
    }

    /// The final hash; the trace must not be extended afterwards.
    func finish() -> Digest32 { hasher.finalize() }
}

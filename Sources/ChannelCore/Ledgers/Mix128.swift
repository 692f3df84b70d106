/// A 128-bit mixing hash of 64-bit words: two multiply–rotate lanes with distinct odd
/// constants, finished with SplitMix64's finalizer. Fast, allocation-free and deterministic in
/// every process. For fingerprints only (not collision resistant against an adversary).
struct Mix128 {
    private var low: UInt64
    private var high: UInt64

    init(tag: UInt64) {
        low = 0x243F_6A88_85A3_08D3 ^ tag
        high = 0x1319_8A2E_0370_7344 &+ tag
    }

    @inline(__always)
    static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    mutating func add(_ word: UInt64) {
        low = ((low ^ word) &* 0x9E37_79B9_7F4A_7C15).rotatedLeft(by: 29)
        high = ((high &+ word) &* 0xC2B2_AE3D_27D4_EB4F).rotatedLeft(by: 31) ^ low
    }

    @inline(__always)
    mutating func addWide(_ wide: Int128) {
        let bits = UInt128(bitPattern: wide)
        add(UInt64(truncatingIfNeeded: bits >> 64))
        add(UInt64(truncatingIfNeeded: bits))
    }

    var value: UInt128 { UInt128(Mix128.finalize(high ^ low.rotatedLeft(by: 17))) << 64 | UInt128(Mix128.finalize(low &+ 0x9E37_79B9_7F4A_7C15)) }
}

extension UInt64 {
    @inline(__always)
    func rotatedLeft(by count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}

import ChannelCore
import ChannelLab
import Testing

/// Goal: hostile bytes never crash the decoder; every input is either a typed `WireError` or
/// a canonical operation that re-encodes to the same bytes. Method: every truncation of every
/// golden vector, thousands of seeded mutations, and one hand-made case per error.
@Suite struct WireDecoderFuzzTests {
    @Test func everyTruncationIsATypedTruncationError() throws {
        let golden = try WireGoldenTests.load()
        for vector in golden.vectors {
            for length in 0..<vector.signed.count {
                let prefix = Array(vector.signed[..<length])
                #expect(throws: WireError.self) { try WireDecoder.decodeSigned(prefix) }
                do {
                    _ = try WireDecoder.decodeSigned(prefix)
                } catch {
                    guard case .truncated = error else {
                        Issue.record("\(vector.name) cut at \(length): \(error), expected truncated")
                        continue
                    }
                }
            }
        }
    }

    /// 20 000 mutants: flipped bits, overwritten bytes, inserted and deleted runs, spliced
    /// vectors. Seed printed on failure through the case number.
    @Test func seededMutationsAreTypedErrorsOrCanonicalRoundTrips() throws {
        let golden = try WireGoldenTests.load()
        var rng = SeededRandom(seed: 0x5EED, stream: "wire-mutations")
        var decoded = 0
        var refused = 0
        for caseNumber in 0..<20_000 {
            var bytes = golden.vectors[rng.index(golden.vectors.count)].signed
            let mutations = 1 + rng.index(4)
            for _ in 0..<mutations {
                switch rng.below(6) {
                case 0 where !bytes.isEmpty:
                    bytes[rng.index(bytes.count)] ^= UInt8(1 << rng.below(8))
                case 1 where !bytes.isEmpty:
                    bytes[rng.index(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
                case 2:
                    let at = rng.index(bytes.count + 1)
                    bytes.insert(contentsOf: (0..<(1 + rng.index(40))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                case 3 where !bytes.isEmpty:
                    let start = rng.index(bytes.count)
                    bytes.removeSubrange(start..<min(bytes.count, start + 1 + rng.index(40)))
                case 4:
                    let other = golden.vectors[rng.index(golden.vectors.count)].signed
                    let cut = rng.index(min(bytes.count, other.count) + 1)
                    bytes = Array(bytes[..<min(cut, bytes.count)]) + Array(other[min(cut, other.count)...])
                default:
                    // Small-scope edits of structural bytes: version, predCount, kind.
                    let structural = [0, 45, min(bytes.count - 1, 46)].filter { $0 >= 0 && $0 < bytes.count }
                    if let at = structural.randomElementSeeded(&rng) { bytes[at] = UInt8(truncatingIfNeeded: rng.below(20)) }
                }
            }
            do {
                let op = try WireDecoder.decodeSigned(bytes)
                decoded += 1
                #expect(op.wireBytes == bytes, "mutation case \(caseNumber) decoded but is not canonical")
                #expect(op.id == op.unsigned.id, "mutation case \(caseNumber)")
            } catch {
                refused += 1
            }
        }
        #expect(decoded + refused == 20_000)
        // Both outcomes must actually occur, or the mutator is not exercising the decoder.
        #expect(decoded > 100)
        #expect(refused > 10_000)
    }

    @Test func eachNonCanonicalFormHasItsOwnTypedError() throws {
        let golden = try WireGoldenTests.load()
        let transfer = golden.vectors.first { $0.name == "transfer" }!.signed
        // Oversized.
        #expect(throws: WireError.oversized(bytes: 2000, max: WireLimits.operationBytesMax)) {
            try WireDecoder.decodeSigned([UInt8](repeating: 1, count: 2000))
        }
        // Trailing bytes.
        #expect(throws: WireError.trailingBytes(count: 1)) { try WireDecoder.decodeSigned(transfer + [0]) }
        // Version.
        var bytes = transfer
        bytes[0] = 2
        #expect(throws: WireError.unsupportedVersion(2)) { try WireDecoder.decodeSigned(bytes) }
        // seq 0 (bytes 37...44).
        bytes = transfer
        for i in 37..<45 { bytes[i] = 0 }
        #expect(throws: WireError.seqZero) { try WireDecoder.decodeSigned(bytes) }
        // Preds out of order: swap the two 32-byte preds (offsets 46 and 78).
        bytes = transfer
        #expect(bytes[45] == 2)
        let first = Array(bytes[46..<78])
        bytes.replaceSubrange(46..<78, with: bytes[78..<110])
        bytes.replaceSubrange(78..<110, with: first)
        #expect(throws: WireError.predsNotCanonical(index: 1)) { try WireDecoder.decodeSigned(bytes) }
        // Duplicate preds.
        bytes = transfer
        bytes.replaceSubrange(78..<110, with: bytes[46..<78])
        #expect(throws: WireError.predsNotCanonical(index: 1)) { try WireDecoder.decodeSigned(bytes) }
        // Too many preds.
        bytes = transfer
        bytes[45] = 17
        #expect(throws: WireError.tooManyPreds(count: 17, max: 16)) { try WireDecoder.decodeSigned(bytes) }
        // Unknown kind (offset 110).
        bytes = transfer
        bytes[110] = 0x7f
        #expect(throws: WireError.unknownPayloadKind(0x7f)) { try WireDecoder.decodeSigned(bytes) }
        // Zero amount: the last 16 bytes before the signature.
        bytes = transfer
        let amountEnd = bytes.count - 64
        for i in (amountEnd - 16)..<amountEnd { bytes[i] = 0 }
        #expect(throws: WireError.amountOutOfRange(field: "transfer.amount")) { try WireDecoder.decodeSigned(bytes) }
        // Amount above 2^96 - 1.
        bytes[amountEnd - 13] = 1
        #expect(throws: WireError.amountOutOfRange(field: "transfer.amount")) { try WireDecoder.decodeSigned(bytes) }
    }
}

extension Array {
    func randomElementSeeded(_ rng: inout SeededRandom) -> Element? {
        isEmpty ? nil : self[rng.index(count)]
    }
}

import ChannelCore
import Testing

/// Goal: BLAKE2b is RFC 7693's, in one-shot, keyed and incremental form. Method: the RFC's
/// Appendix A vector and its Appendix E self-test, which hashes keyed and unkeyed digests of
/// many lengths into one grand hash.
@Suite struct Blake2bTests {
    @Test func rfc7693AppendixAAbcDigest() throws {
        let file = try #require(try Fixtures.json("blake2b-rfc7693.json") as? [String: Any])
        let abc = try #require(file["abc512"] as? [String: Any])
        #expect(Blake2b.hash(Fixtures.bytes(abc["message"]), outputBytes: 64) == Fixtures.bytes(abc["digest"]))
    }

    /// RFC 7693 Appendix E: deterministic test sequences, every output and input length,
    /// keyed and unkeyed, fed into an incremental BLAKE2b-256.
    @Test func rfc7693AppendixESelfTestGrandHash() throws {
        let file = try #require(try Fixtures.json("blake2b-rfc7693.json") as? [String: Any])
        let selftest = try #require(file["selftest"] as? [String: Any])
        let outlens = try #require(selftest["outlens"] as? [Int])
        let inlens = try #require(selftest["inlens"] as? [Int])
        func sequence(_ length: Int, seed: UInt32) -> [UInt8] {
            var a: UInt32 = 0xDEAD_4BAD &* seed
            var b: UInt32 = 1
            return (0..<length).map { _ in
                let t = a &+ b
                a = b
                b = t
                return UInt8(t >> 24)
            }
        }
        let grand = Blake2b.Hasher256()
        for outlen in outlens {
            for inlen in inlens {
                let input = sequence(inlen, seed: UInt32(inlen))
                grand.update(Blake2b.hash(input, outputBytes: outlen))
                grand.update(Blake2b.hash(input, outputBytes: outlen, key: sequence(outlen, seed: UInt32(outlen))))
            }
        }
        #expect(grand.finalize().bytes == Fixtures.bytes(selftest["grandHash256"]))
    }

    @Test func incrementalEqualsOneShotAndDomainsSeparate() {
        let data: [UInt8] = Array(0..<200)
        let hasher = Blake2b.Hasher256()
        hasher.update(Array(data[..<77]))
        hasher.update(Array(data[77...]))
        #expect(hasher.finalize() == Blake2b.hash256(data))
        let domained = Blake2b.Hasher256(domain: .operationID)
        domained.update(data)
        #expect(domained.finalize() == Blake2b.hash256(domain: .operationID, data))
        let digests = Set(DomainTag.allCases.map { Blake2b.hash256(domain: $0, data) })
        #expect(digests.count == DomainTag.allCases.count)
        #expect(!digests.contains(Blake2b.hash256(data)))
    }
}

import ChannelCore
import Testing

/// Goal: the signature layer is libsodium's Ed25519, bit for bit, and its verdicts on edge
/// cases are pinned (replicas must agree on validity). Method: published vectors from files.
@Suite struct Ed25519Tests {
    @Test func rfc8032Section7_1VectorsDeriveTheKeySignAndVerify() throws {
        let file = try #require(try Fixtures.json("ed25519-rfc8032.json") as? [String: Any])
        let vectors = try #require(file["vectors"] as? [[String: Any]])
        #expect(vectors.count == 4)
        for vector in vectors {
            let key = KeyPair(seed: Fixtures.bytes(vector["secretKey"]))
            #expect(key.publicKey.bytes == Fixtures.bytes(vector["publicKey"]), "\(vector["name"]!)")
            let message = Fixtures.bytes(vector["message"])
            let signature = key.sign(message)
            #expect(signature.bytes == Fixtures.bytes(vector["signature"]), "\(vector["name"]!)")
            #expect(key.publicKey.verify(signature, message: message))
            var tampered = signature.bytes
            tampered[0] ^= 1
            #expect(!key.publicKey.verify(Signature(bytes: tampered)!, message: message))
            #expect(!key.publicKey.verify(signature, message: message + [0]))
        }
    }

    @Test func speccheckEdgeCasesGiveExactlyThePinnedVerdicts() throws {
        let cases = try #require(try Fixtures.json("ed25519-speccheck-cases.json") as? [[String: Any]])
        #expect(cases.count == 10)
        var accepted = [Int]()
        for entry in cases {
            let index = try #require(entry["case"] as? Int)
            let key = try #require(PublicKey(bytes: Fixtures.bytes(entry["pub_key"])))
            let signature = try #require(Signature(bytes: Fixtures.bytes(entry["signature"])))
            let verdict = key.verify(signature, message: Fixtures.bytes(entry["message"]))
            let pinned = try #require(entry["libsodium_1_0_18"] as? String)
            #expect(verdict == (pinned == "accept"), "speccheck case \(index)")
            if verdict { accepted.append(index) }
        }
        #expect(accepted == [3])
    }

    @Test func labKeysAreDeterministicPerSeedAndIndexAndDistinct() {
        let a = KeyPair(labSeed: 42, index: 0)
        #expect(a.publicKey == KeyPair(labSeed: 42, index: 0).publicKey)
        #expect(a.publicKey != KeyPair(labSeed: 42, index: 1).publicKey)
        #expect(a.publicKey != KeyPair(labSeed: 43, index: 0).publicKey)
    }

    @Test func wrongLengthKeysAndSignaturesAreRefusedNotTrapped() {
        #expect(PublicKey(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(Signature(bytes: [UInt8](repeating: 1, count: 65)) == nil)
    }
}

import ChannelCore
import ChannelLab
import Testing

/// Goal: the Swift encoder, decoder, ids and signatures match the written specification.
/// Method: golden vectors produced by an independent Python implementation of
/// docs/wire-format.md (scripts/make-wire-golden.py).
@Suite struct WireGoldenTests {
    struct Golden {
        let channel: ChannelID
        let fundingKey: PublicKey
        let keys: [PublicKey]
        let vectors: [(name: String, unsigned: [UInt8], id: OperationID, signed: [UInt8])]
    }

    static func load() throws -> Golden {
        let file = try #require(try Fixtures.json("wire-golden.json") as? [String: Any])
        let vectors = try #require(file["vectors"] as? [[String: Any]])
        return Golden(
            channel: Digest32(bytes: Fixtures.bytes(file["channel"])),
            fundingKey: PublicKey(bytes: Fixtures.bytes(file["fundingPublicKey"]))!,
            keys: try #require(file["publicKeys"] as? [String]).map { PublicKey(bytes: Fixtures.bytes($0))! },
            vectors: vectors.map {
                ($0["name"] as! String, Fixtures.bytes($0["unsigned"]), Digest32(bytes: Fixtures.bytes($0["id"])), Fixtures.bytes($0["signed"]))
            })
    }

    @Test func goldenVectorsDecodeToTheirIdAndReencodeByteForByte() throws {
        let golden = try Self.load()
        #expect(golden.vectors.count == 7)
        for vector in golden.vectors {
            let op = try WireDecoder.decodeSigned(vector.signed)
            #expect(op.id == vector.id, "\(vector.name)")
            #expect(op.unsignedBytes == vector.unsigned, "\(vector.name)")
            #expect(op.unsigned.canonicalBytes == vector.unsigned, "\(vector.name)")
            #expect(op.wireBytes == vector.signed, "\(vector.name)")
            #expect(op.verifySignature(key: golden.keys[Int(op.author)]), "\(vector.name)")
            #expect(op.channel == golden.channel)
            #expect(try WireDecoder.decodeUnsigned(vector.unsigned) == op.unsigned)
        }
    }

    @Test func labKeyAndChannelDerivationMatchTheSpecification() throws {
        let golden = try Self.load()
        #expect(OpSetGenerator.channelID(seed: 7) == golden.channel)
        #expect(KeyPair(labSeed: 7, index: UInt32.max).publicKey == golden.fundingKey)
        for (index, key) in golden.keys.enumerated() {
            #expect(KeyPair(labSeed: 7, index: UInt32(index)).publicKey == key)
        }
    }

    @Test func swiftSignerReproducesTheGoldenSignatures() throws {
        // Ed25519 is deterministic, so re-signing the decoded operation with the lab key must
        // give the golden bytes exactly.
        let golden = try Self.load()
        for vector in golden.vectors {
            let op = try WireDecoder.decodeSigned(vector.signed)
            let resigned = op.unsigned.signed(by: KeyPair(labSeed: 7, index: op.author))
            #expect(resigned.wireBytes == vector.signed, "\(vector.name)")
        }
    }

    @Test func goldenReplicaAcceptsTheChainAndAppliesEveryLedgerRule() throws {
        let golden = try Self.load()
        let participants = golden.keys.enumerated().map { Participant(index: ParticipantIndex($0.offset), publicKey: $0.element, role: .trader) }
        let config = ChannelConfig(channel: golden.channel, participants: participants, fundingKey: golden.fundingKey, tokens: [0, 1])
        let replica = Replica(config: config)
        for vector in golden.vectors {
            #expect(replica.receive(wireBytes: vector.signed) == .accepted([vector.id]), "\(vector.name)")
        }
        #expect(replica.rejections.isEmpty)
        // 1000 deposited, 250 sent to 1, 1 withdrawn, 100 locked until 9 and unlocked at 9.
        #expect(replica.account(0, 0) == Account(balance: 749, locked: 0, withdrawn: 1))
        #expect(replica.account(1, 0) == Account(balance: 250))
        #expect(replica.account(1, 1).balance == Int128(WireLimits.amountMax))
    }
}

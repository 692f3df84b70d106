import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: the order book's bytes and commitments match an independent implementation of its
/// documents byte for byte: the place, cancel and market-order bodies inside signed operations,
/// the state leaves (accounts created and drained by fills, order leaves, market leaves), the
/// state root, and the rejection records with every parameter and class (invalid in causal past,
/// concurrent conflict, void), whatever the delivery order.
/// Method: fixtures/orderbook-golden.json, written by scripts/make-orderbook-golden.py (Python's
/// hashlib and pyca/cryptography and its own model of the order book written from
/// docs/apps/orderbook.md, docs/apps/README.md, docs/wire-format.md and docs/merge-and-ledger.md;
/// no Swift involved). Each case lists its operations by their fields; the Swift code rebuilds
/// and signs each one (lab keys of the fixture's seed) and must produce the fixture's wire bytes
/// and id; then fresh replicas fed the case in several orders must end with exactly the expected
/// leaves, root, records and digest. The readings the generator took where the documents are
/// silent are listed in the fixture (`assumptions`) and named per case.
@Suite struct OrderBookGoldenTests {
    struct GoldenOp: Sendable {
        let label: String
        let author: ParticipantIndex
        let seq: UInt64
        /// Labels of operations of the case, or hex ids.
        let preds: [String]
        let payload: [String: String]
        let id: OperationID
        let wire: [UInt8]
    }

    struct GoldenCase: Sendable, CustomTestStringConvertible {
        let name: String
        let roles: [Role]
        let tokens: [TokenID]
        let markets: [Market]
        let ops: [GoldenOp]
        let leaves: [String]
        let treeSize: Int
        let stateRoot: String
        let records: [String]
        let rejectionsDigest: String
        let assumptions: [String]

        var testDescription: String { name }

        /// Replaces every operation id in `text` with the case's label for it (failure messages).
        func labelled(_ text: String) -> String {
            ops.reduce(text) {
                $0.replacingOccurrences(of: $1.id.hex, with: "<\($1.label)>").replacingOccurrences(of: $1.id.short, with: "<\($1.label)>")
            }
        }
    }

    struct Golden: Sendable {
        let labSeed: UInt64
        let channel: ChannelID
        let fundingKey: PublicKey
        let keys: [PublicKey]
        let assumptions: [String: String]
        let cases: [GoldenCase]
    }

    enum GoldenError: Error { case field(String) }

    static func amount(_ value: Any?) throws -> Amount {
        guard let text = value as? String, let amount = Amount(text) else { throw GoldenError.field("amount \(String(describing: value))") }
        return amount
    }

    static func market(_ entry: [String: Any]) throws -> Market {
        let matching: MatchingRule
        if entry["matching"] as? String == "continuous" {
            matching = .continuous
        } else {
            let batch = try #require(entry["matching"] as? [String: Any])
            matching = .batch(roundDepths: UInt64(try #require(batch["batch"] as? Int)))
        }
        return Market(
            id: UInt32(try #require(entry["id"] as? Int)), base: TokenID(try #require(entry["base"] as? Int)),
            quote: TokenID(try #require(entry["quote"] as? Int)), tick: Amount(try #require(entry["tick"] as? Int)),
            lotSize: Amount(try #require(entry["lotSize"] as? Int)), matching: matching,
            makerFeeBps: UInt32(try #require(entry["makerFeeBps"] as? Int)), takerFeeBps: UInt32(try #require(entry["takerFeeBps"] as? Int)),
            feeRecipient: ParticipantIndex(try #require(entry["feeRecipient"] as? Int)))
    }

    static func load() throws -> Golden {
        let file = try #require(try Fixtures.json("orderbook-golden.json") as? [String: Any])
        let cases = try #require(file["cases"] as? [[String: Any]])
        return Golden(
            labSeed: UInt64(try #require(file["labSeed"] as? Int)),
            channel: Digest32(bytes: Fixtures.bytes(file["channel"])),
            fundingKey: try #require(PublicKey(bytes: Fixtures.bytes(file["fundingPublicKey"]))),
            keys: try #require(file["publicKeys"] as? [String]).map { try #require(PublicKey(bytes: Fixtures.bytes($0))) },
            assumptions: try #require(file["assumptions"] as? [String: String]),
            cases: try cases.map { entry in
                let config = try #require(entry["config"] as? [String: Any])
                let expected = try #require(entry["expected"] as? [String: Any])
                let roles = try #require(config["roles"] as? [String]).map { try #require(Role(rawValue: $0), "role \($0)") }
                #expect(roles.count == config["participants"] as? Int)
                return GoldenCase(
                    name: try #require(entry["name"] as? String),
                    roles: roles,
                    tokens: try #require(config["tokens"] as? [Int]).map { TokenID($0) },
                    markets: try #require(config["markets"] as? [[String: Any]]).map(market),
                    ops: try #require(entry["ops"] as? [[String: Any]]).map { op in
                        let payload = try #require(op["payload"] as? [String: Any])
                        return GoldenOp(
                            label: try #require(op["label"] as? String),
                            author: ParticipantIndex(try #require(op["author"] as? Int)),
                            seq: UInt64(try #require(op["seq"] as? Int)),
                            preds: try #require(op["preds"] as? [String]),
                            payload: payload.mapValues { "\($0)" },
                            id: Digest32(bytes: Fixtures.bytes(op["id"])),
                            wire: Fixtures.bytes(op["wire"]))
                    },
                    leaves: try #require(expected["leaves"] as? [String]),
                    treeSize: try #require(expected["treeSize"] as? Int),
                    stateRoot: try #require(expected["stateRoot"] as? String),
                    records: try #require(expected["records"] as? [String]),
                    rejectionsDigest: try #require(expected["rejectionsDigest"] as? String),
                    assumptions: try #require(entry["assumptions"] as? [String]))
            })
    }

    /// The cases, for parameterized tests (empty if the fixture does not load; the count test
    /// below then fails).
    static let cases: [GoldenCase] = (try? load().cases) ?? []

    static func config(_ labSeed: UInt64, _ goldenCase: GoldenCase) -> ChannelConfig {
        let participants = goldenCase.roles.enumerated().map { index, role in
            Participant(index: ParticipantIndex(index), publicKey: KeyPair(labSeed: labSeed, index: UInt32(index)).publicKey, role: role)
        }
        return ChannelConfig(
            channel: OpSetGenerator.channelID(seed: labSeed), participants: participants,
            fundingKey: KeyPair(labSeed: labSeed, index: UInt32.max).publicKey, tokens: goldenCase.tokens,
            applications: [OrderBookConfig(markets: goldenCase.markets)])
    }

    static func side(_ text: String?) throws -> OrderBook.Side {
        switch text {
        case "buy": return .buy
        case "sell": return .sell
        default: throw GoldenError.field("side \(String(describing: text))")
        }
    }

    static func uint(_ text: String?) throws -> UInt64 {
        guard let text, let value = UInt64(text) else { throw GoldenError.field("integer \(String(describing: text))") }
        return value
    }

    /// The Swift payload for a fixture operation's fields.
    static func payload(_ fields: [String: String], labSeed: UInt64, author: ParticipantIndex) throws -> Payload {
        let channel = OpSetGenerator.channelID(seed: labSeed)
        let funding = KeyPair(labSeed: labSeed, index: UInt32.max)
        switch fields["type"] {
        case "deposit":
            return .deposit(
                funding.signReceipt(
                    channel: channel, participant: author, token: TokenID(try uint(fields["token"])), amount: try amount(fields["amount"]),
                    nonce: try uint(fields["nonce"]), height: try uint(fields["height"])))
        case "anchor":
            return .chainAnchor(funding.signAnchor(channel: channel, height: try uint(fields["height"])))
        case "place":
            let postOnly: Bool
            switch fields["postOnly"] {
            case "true", "1": postOnly = true
            case "false", "0": postOnly = false
            default: throw GoldenError.field("postOnly \(String(describing: fields["postOnly"]))")
            }
            return .orderBook(
                .place(
                    market: UInt32(try uint(fields["market"])), side: try side(fields["side"]), price: try amount(fields["price"]),
                    amount: try amount(fields["amount"]), expiry: try uint(fields["expiry"]), postOnly: postOnly))
        case "cancel":
            return .orderBook(.cancel(order: Digest32(bytes: Fixtures.bytes(fields["order"]))))
        case "market":
            return .orderBook(
                .market(
                    market: UInt32(try uint(fields["market"])), side: try side(fields["side"]), amount: try amount(fields["amount"]),
                    worstPrice: try amount(fields["worstPrice"])))
        default:
            throw GoldenError.field("payload type \(String(describing: fields["type"]))")
        }
    }

    /// Every operation of the case built and signed by the Swift code from its fields.
    static func rebuild(_ goldenCase: GoldenCase, labSeed: UInt64) throws -> [SignedOperation] {
        var ids: [String: OperationID] = [:]
        var out = [SignedOperation]()
        for op in goldenCase.ops {
            let preds = try op.preds.map { label in
                if let id = ids[label] { return id }
                guard let bytes = Hex.decode(label), bytes.count == 32 else { throw GoldenError.field("pred \(label)") }
                return Digest32(bytes: bytes)
            }
            let unsigned = UnsignedOperation(
                channel: OpSetGenerator.channelID(seed: labSeed), author: op.author, seq: op.seq, preds: preds,
                payload: try payload(op.payload, labSeed: labSeed, author: op.author))
            let signed = unsigned.signed(by: KeyPair(labSeed: labSeed, index: op.author))
            ids[op.label] = signed.id
            out.append(signed)
        }
        return out
    }

    @Test func fixtureLoadsWithEveryCase() throws {
        // Goal: the fixture is the one the generator writes, whole. Method: count its cases,
        // check that names are unique, that each tree size is its leaf count, and that every
        // assumption a case names is listed.
        let golden = try Self.load()
        #expect(golden.cases.count == 11)
        #expect(Self.cases.count == golden.cases.count)
        #expect(Set(golden.cases.map(\.name)).count == golden.cases.count, "case names are unique")
        for goldenCase in golden.cases {
            #expect(goldenCase.treeSize == goldenCase.leaves.count, "\(goldenCase.name)")
            for name in goldenCase.assumptions { #expect(golden.assumptions[name] != nil, "\(goldenCase.name): \(name)") }
        }
        // Both kinds of application leaf and all three classes are in the vectors.
        let leaves = golden.cases.flatMap(\.leaves)
        #expect(leaves.contains { $0.hasPrefix("4f") } && leaves.contains { $0.hasPrefix("4d") })
        let classes = Set(golden.cases.flatMap(\.records).map { Hex.decode($0)![44] })
        #expect(classes == [1, 2, 3])
    }

    @Test func keysAndChannelAreTheLabDerivation() throws {
        // Goal: the Python generator and the Swift tests build the same channel.
        let golden = try Self.load()
        #expect(OpSetGenerator.channelID(seed: golden.labSeed) == golden.channel)
        #expect(KeyPair(labSeed: golden.labSeed, index: UInt32.max).publicKey == golden.fundingKey)
        for (index, key) in golden.keys.enumerated() {
            #expect(KeyPair(labSeed: golden.labSeed, index: UInt32(index)).publicKey == key)
        }
    }

    @Test(arguments: cases)
    func swiftBuildsTheSameSignedOperations(_ goldenCase: GoldenCase) throws {
        // Goal: the order-book bodies (place 46 bytes, cancel 32, market 37), the operation
        // around them, its id and its signature are the generator's byte for byte. Method:
        // rebuild each operation from its fields with the Swift encoder and signer; compare the
        // wire bytes and ids, and decode the fixture's bytes back to the same payload.
        let golden = try Self.load()
        let rebuilt = try Self.rebuild(goldenCase, labSeed: golden.labSeed)
        for (op, signed) in zip(goldenCase.ops, rebuilt) {
            #expect(Hex.encode(signed.wireBytes) == Hex.encode(op.wire), "\(goldenCase.name) \(op.label): wire bytes")
            #expect(signed.id == op.id, "\(goldenCase.name) \(op.label): id")
            let decoded = try WireDecoder.decodeSigned(op.wire)
            #expect(decoded.id == op.id && decoded.wireBytes == op.wire, "\(goldenCase.name) \(op.label): decode")
            #expect(decoded.payload == signed.payload, "\(goldenCase.name) \(op.label): payload")
            if case let .application(body) = signed.payload {
                let expectedBody = switch body.kind {
                case 0x10: 46
                case 0x11: 32
                default: 37
                }
                #expect(body.body.count == expectedBody, "\(goldenCase.name) \(op.label): body length")
            }
        }
    }

    /// The given order, its reverse, every operation twice, seeded shuffles, and seeded
    /// shuffles in batches.
    static func deliveries(_ ops: [SignedOperation], name: String) -> [[[SignedOperation]]] {
        var out: [[[SignedOperation]]] = [ops.map { [$0] }, ops.reversed().map { [$0] }, (ops.reversed() + ops).map { [$0] }, [ops]]
        var rng = SeededRandom(seed: 13, stream: "orderbook-golden/" + name)
        for round in 0..<8 {
            var shuffled = ops
            rng.shuffle(&shuffled)
            if round % 2 == 0 {
                out.append(shuffled.map { [$0] })
            } else {
                var chunks = [[SignedOperation]]()
                var position = 0
                while position < shuffled.count {
                    let size = min(shuffled.count - position, rng.int(in: 1...4))
                    chunks.append(Array(shuffled[position..<position + size]))
                    position += size
                }
                out.append(chunks)
            }
        }
        return out
    }

    @Test(arguments: cases)
    func everyDeliveryOrderGivesTheGoldenLeavesRootAndRecords(_ goldenCase: GoldenCase) throws {
        // Goal: leaves, state root, rejection records and their digest are the independent
        // model's byte for byte and depend only on the operation set. Method: feed the Swift-built
        // operations to fresh replicas in many orders (one by one and in batches, through the
        // wire decoder) and compare everything.
        let golden = try Self.load()
        let config = Self.config(golden.labSeed, goldenCase)
        let ops = try Self.rebuild(goldenCase, labSeed: golden.labSeed)
        let expectedRoot = try #require(Digest32(hex: goldenCase.stateRoot))
        let expectedDigest = try #require(Digest32(hex: goldenCase.rejectionsDigest))
        for (index, delivery) in Self.deliveries(ops, name: goldenCase.name).enumerated() {
            let replica = Replica(config: config)
            for chunk in delivery {
                if chunk.count == 1 {
                    _ = replica.receive(wireBytes: chunk[0].wireBytes)
                } else {
                    _ = replica.receive(batch: try chunk.map { try WireDecoder.decodeSigned($0.wireBytes) })
                }
            }
            let context = "\(goldenCase.name), delivery \(index): " + delivery.map { "[" + $0.map { goldenCase.labelled($0.id.short) }.joined(separator: " ") + "]" }.joined(separator: " ")
            #expect(replica.pendingCount == 0, "\(context)")
            for op in ops { #expect(replica.knows(op.id), "\(context): \(goldenCase.labelled(op.id.short)) unknown") }

            let leaves = replica.state.stateLeaves().map { Hex.encode($0) }
            if leaves != goldenCase.leaves {
                let missing = goldenCase.leaves.filter { !leaves.contains($0) }
                let extra = leaves.filter { !goldenCase.leaves.contains($0) }
                Issue.record("\(context): leaves differ; expected but absent \(missing.map(goldenCase.labelled)); present but not expected \(extra.map(goldenCase.labelled))")
            }
            #expect(leaves.count == goldenCase.treeSize, "\(context): tree size")
            #expect(replica.stateRoot == expectedRoot, "\(context): state root")

            let records = replica.rejections.map { Hex.encode($0.canonicalBytes) }
            if records != goldenCase.records {
                let described = replica.rejections.map { goldenCase.labelled($0.description) }
                Issue.record("\(context): records differ; the replica holds \(described), bytes \(records.map(goldenCase.labelled))")
            }
            #expect(replica.rejectionsDigest == expectedDigest, "\(context): rejections digest")
        }
    }
}

import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: the replica's observable commitments — the state leaves and Merkle state root (drained
/// accounts included), and the rejection records with every parameter, their canonical bytes
/// and the rejections digest — match an independent implementation of the docs byte for byte,
/// whatever the delivery order.
/// Method: fixtures/replica-golden.json, written by scripts/make-replica-golden.py (Python's
/// hashlib and pyca/cryptography, its own model of the hash graph, total order, ledger rules,
/// causal-past classification and RFC 6962 tree; no Swift involved). Each case is a small
/// hand-designed operation set with its configuration; every case is fed to fresh replicas in
/// the given order, reversed, in seeded shuffles, in random batch splits and as one batch, and
/// each replica must end with exactly the expected leaves, root, tree size, records and digest.
@Suite struct ReplicaGoldenTests {
    struct GoldenOp: Sendable {
        let label: String
        let id: OperationID
        let wire: [UInt8]
    }

    struct GoldenCase: Sendable, CustomTestStringConvertible {
        let name: String
        let shows: String
        let roles: [Role]
        let tokens: [TokenID]
        let ops: [GoldenOp]
        let leaves: [String]
        let treeSize: Int
        let stateRoot: String
        let records: [String]
        let rejectionsDigest: String

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
        let cases: [GoldenCase]
    }

    static func load() throws -> Golden {
        let file = try #require(try Fixtures.json("replica-golden.json") as? [String: Any])
        let cases = try #require(file["cases"] as? [[String: Any]])
        return Golden(
            labSeed: UInt64(try #require(file["labSeed"] as? Int)),
            channel: Digest32(bytes: Fixtures.bytes(file["channel"])),
            fundingKey: try #require(PublicKey(bytes: Fixtures.bytes(file["fundingPublicKey"]))),
            keys: try #require(file["publicKeys"] as? [String]).map { try #require(PublicKey(bytes: Fixtures.bytes($0))) },
            cases: try cases.map { entry in
                let config = try #require(entry["config"] as? [String: Any])
                let expected = try #require(entry["expected"] as? [String: Any])
                let roles = try #require(config["roles"] as? [String]).map { try #require(Role(rawValue: $0), "role \($0)") }
                #expect(roles.count == config["participants"] as? Int)
                return GoldenCase(
                    name: try #require(entry["name"] as? String),
                    shows: try #require(entry["shows"] as? String),
                    roles: roles,
                    tokens: try #require(config["tokens"] as? [Int]).map { TokenID($0) },
                    ops: try #require(entry["ops"] as? [[String: Any]]).map {
                        GoldenOp(
                            label: try #require($0["label"] as? String), id: Digest32(bytes: Fixtures.bytes($0["id"])),
                            wire: Fixtures.bytes($0["wire"]))
                    },
                    leaves: try #require(expected["leaves"] as? [String]),
                    treeSize: try #require(expected["treeSize"] as? Int),
                    stateRoot: try #require(expected["stateRoot"] as? String),
                    records: try #require(expected["records"] as? [String]),
                    rejectionsDigest: try #require(expected["rejectionsDigest"] as? String))
            })
    }

    /// The cases, for parameterized tests (empty if the fixture does not load; the count test
    /// below then fails).
    static let cases: [GoldenCase] = (try? load().cases) ?? []

    static func config(_ golden: Golden, _ goldenCase: GoldenCase) -> ChannelConfig {
        let participants = goldenCase.roles.enumerated().map { index, role in
            Participant(index: ParticipantIndex(index), publicKey: KeyPair(labSeed: golden.labSeed, index: UInt32(index)).publicKey, role: role)
        }
        return ChannelConfig(
            channel: OpSetGenerator.channelID(seed: golden.labSeed), participants: participants,
            fundingKey: KeyPair(labSeed: golden.labSeed, index: UInt32.max).publicKey, tokens: goldenCase.tokens)
    }

    /// One way to deliver a case's operations to a fresh replica.
    enum Delivery: CustomStringConvertible {
        /// One `receive(wireBytes:)` per operation, in this order.
        case oneByOne([GoldenOp])
        /// One `receive(batch:)` per chunk, in this order.
        case batches([[GoldenOp]])

        var description: String {
            switch self {
            case let .oneByOne(ops): return "one by one: " + ops.map(\.label).joined(separator: " ")
            case let .batches(chunks): return "batches: " + chunks.map { "[" + $0.map(\.label).joined(separator: " ") + "]" }.joined(separator: " ")
            }
        }
    }

    /// The given order, its reverse, every operation twice (duplicates change nothing), seeded
    /// shuffles, seeded shuffles split into random batches, and the whole set as one batch (given
    /// and reversed).
    static func deliveries(_ goldenCase: GoldenCase) -> [Delivery] {
        let given = goldenCase.ops
        var out: [Delivery] = [
            .oneByOne(given), .oneByOne(given.reversed()), .oneByOne(given.reversed() + given),
            .batches([given]), .batches([given.reversed()]),
        ]
        var rng = SeededRandom(seed: 11, stream: "replica-golden/" + goldenCase.name)
        for _ in 0..<6 {
            var shuffled = given
            rng.shuffle(&shuffled)
            out.append(.oneByOne(shuffled))
        }
        for _ in 0..<4 {
            var shuffled = given
            rng.shuffle(&shuffled)
            var chunks = [[GoldenOp]]()
            var position = 0
            while position < shuffled.count {
                let size = min(shuffled.count - position, rng.int(in: 1...3))
                chunks.append(Array(shuffled[position..<position + size]))
                position += size
            }
            out.append(.batches(chunks))
        }
        return out
    }

    static func deliver(_ delivery: Delivery, config: ChannelConfig, bugs: PlantedBugs = []) throws -> Replica {
        let replica = Replica(config: config, bugs: bugs)
        switch delivery {
        case let .oneByOne(ops):
            for op in ops { _ = replica.receive(wireBytes: op.wire) }
        case let .batches(chunks):
            for chunk in chunks { _ = replica.receive(batch: try chunk.map { try WireDecoder.decodeSigned($0.wire) }) }
        }
        return replica
    }

    @Test func fixtureLoadsWithEveryCase() throws {
        // Goal: the fixture is the one the generator writes, whole. Method: count its cases,
        // check that names are unique, that each case is small and that its tree size is its
        // leaf count.
        let golden = try Self.load()
        #expect(golden.cases.count == 25)
        #expect(Self.cases.count == golden.cases.count)
        #expect(Set(golden.cases.map(\.name)).count == golden.cases.count, "case names are unique")
        for goldenCase in golden.cases {
            #expect((0...8).contains(goldenCase.ops.count), "\(goldenCase.name) is small")
            #expect(goldenCase.treeSize == goldenCase.leaves.count, "\(goldenCase.name)")
            #expect(!goldenCase.shows.isEmpty, "\(goldenCase.name)")
        }
    }

    @Test func keysAndChannelAreTheLabDerivation() throws {
        // Goal: the Python generator and the Swift tests build the same channel. Method: derive
        // the channel id and the keys in Swift and compare them with the fixture's.
        let golden = try Self.load()
        #expect(OpSetGenerator.channelID(seed: golden.labSeed) == golden.channel)
        #expect(KeyPair(labSeed: golden.labSeed, index: UInt32.max).publicKey == golden.fundingKey)
        for (index, key) in golden.keys.enumerated() {
            #expect(KeyPair(labSeed: golden.labSeed, index: UInt32(index)).publicKey == key)
        }
    }

    @Test(arguments: cases)
    func operationsDecodeToTheirIds(_ goldenCase: GoldenCase) throws {
        // Goal: the operations reach the replica as the generator meant them. Method: decode
        // each signed operation; its id is the fixture's and it re-encodes byte for byte.
        for op in goldenCase.ops {
            let decoded = try WireDecoder.decodeSigned(op.wire)
            #expect(decoded.id == op.id, "\(goldenCase.name) \(op.label)")
            #expect(decoded.wireBytes == op.wire, "\(goldenCase.name) \(op.label)")
        }
    }

    @Test(arguments: cases)
    func everyDeliveryOrderGivesTheGoldenLeavesRootAndRecords(_ goldenCase: GoldenCase) throws {
        // Goal: leaves, state root, tree size, rejection records and their digest are the
        // independent model's, byte for byte, and depend only on the operation set. Method:
        // feed the case to a fresh replica per delivery (`deliveries`) and compare everything.
        let golden = try Self.load()
        let config = Self.config(golden, goldenCase)
        let expectedRoot = try #require(Digest32(hex: goldenCase.stateRoot))
        let expectedDigest = try #require(Digest32(hex: goldenCase.rejectionsDigest))
        for delivery in Self.deliveries(goldenCase) {
            let replica = try Self.deliver(delivery, config: config)
            let context = "\(goldenCase.name), \(delivery)"
            // Nothing is dropped or left waiting: every operation is accepted or on record.
            #expect(replica.pendingCount == 0, "\(context)")
            for op in goldenCase.ops { #expect(replica.knows(op.id), "\(context): \(op.label) unknown") }

            let leaves = replica.balances.stateLeaves().leaves.map { Hex.encode($0) }
            #expect(leaves == goldenCase.leaves, "\(context): leaves")
            #expect(leaves.count == goldenCase.treeSize, "\(context): tree size")
            #expect(replica.stateRoot == expectedRoot, "\(context): state root")
            #expect(replica.stateAt(heads: replica.heads)?.treeSize == UInt64(goldenCase.treeSize), "\(context): tree size at heads")

            let records = replica.rejections.map { Hex.encode($0.canonicalBytes) }
            if records != goldenCase.records {
                let described = replica.rejections.map { goldenCase.labelled($0.description) }
                Issue.record("\(context): records differ; the replica holds \(described)")
            }
            #expect(records == goldenCase.records, "\(context): records")
            #expect(replica.rejectionsDigest == expectedDigest, "\(context): rejections digest")
        }
    }

    @Test func goldenFanInsCatchTheOldNamingRule() throws {
        // Goal: the vectors bite on the bug of issue 11. Method: with the old rule planted (a
        // record names the rejected predecessor that arrived first), the given orders of the
        // fan-in cases, which deliver the larger refused predecessor first, must give records
        // other than the golden ones; without the bug they match (tested above).
        let golden = try Self.load()
        for name in ["rejected-fan-in", "rejected-fan-in-buffered", "rejected-fan-in-cascade"] {
            let goldenCase = try #require(golden.cases.first { $0.name == name })
            let replica = try Self.deliver(.oneByOne(goldenCase.ops), config: Self.config(golden, goldenCase), bugs: .nameArrivalOrderPredecessor)
            #expect(replica.rejections.map { Hex.encode($0.canonicalBytes) } != goldenCase.records, "\(name)")
            #expect(replica.rejectionsDigest != Digest32(hex: goldenCase.rejectionsDigest), "\(name)")
        }
    }
}

import ChannelCore
import Foundation
import Yams

/// The settlement, Byzantine and expectation sections of a scenario file.
extension ScenarioParser {
    func settlement(_ node: Node, count: Int, duration: SimDuration) throws(ScenarioError) -> SettlementSpec {
        let map = try reader.mapping(node, "settlement", allowed: [
            "checkpointInterval", "proposeAt", "proposer", "threshold", "disputeWindow", "bond", "finalRoundTimeout", "stallTimeout",
            "inclusionBlocksMax", "registerCheckpoints",
        ])
        var spec = SettlementSpec(threshold: max(1, (count * 2 + 2) / 3))
        if let value = map["checkpointInterval"] {
            let interval = try reader.duration(value, "settlement.checkpointInterval", max: .seconds(600))
            guard interval.micros >= 100_000 else { throw reader.error(value, "settlement.checkpointInterval must be at least 100ms") }
            spec.checkpointInterval = interval
        }
        if let value = map["proposeAt"] {
            let at = try reader.duration(value, "settlement.proposeAt")
            guard at <= duration else { throw reader.error(value, "settlement.proposeAt \(at) is after the end of the run (\(duration))") }
            spec.proposeAt = SimInstant(micros: at.micros)
        }
        if let value = map["proposer"] { spec.proposer = try participant(value, count: count, "settlement.proposer") }
        if let value = map["threshold"] { spec.threshold = Int(try reader.integer(value, "settlement.threshold", 1...UInt64(count))) }
        if let value = map["disputeWindow"] { spec.disputeWindowBlocks = try reader.integer(value, "settlement.disputeWindow (blocks)", 1...100_000) }
        if let value = map["bond"] { spec.bond = try reader.integer(value, "settlement.bond", 0...UInt64(1) << 60) }
        if let value = map["finalRoundTimeout"] {
            spec.finalRoundTimeout = try reader.duration(value, "settlement.finalRoundTimeout", max: .seconds(600))
            guard spec.finalRoundTimeout.micros > 0 else { throw reader.error(value, "settlement.finalRoundTimeout must be positive") }
        }
        if let value = map["stallTimeout"] {
            let timeout = try reader.duration(value, "settlement.stallTimeout", max: .seconds(3600))
            guard timeout.micros >= 1_000_000 else { throw reader.error(value, "settlement.stallTimeout must be at least 1s") }
            spec.stallTimeout = timeout
        }
        if spec.stallTimeout != nil, spec.checkpointInterval == nil {
            throw reader.error(map["stallTimeout"], "settlement.stallTimeout needs settlement.checkpointInterval (stalls are detected on checkpoint rounds)")
        }
        if let value = map["registerCheckpoints"] { spec.registerCheckpoints = try reader.bool(value, "settlement.registerCheckpoints") }
        if let value = map["inclusionBlocksMax"] { spec.inclusionBlocksMax = try reader.integer(value, "settlement.inclusionBlocksMax", 1...1000) }
        // A window no longer than the inclusion bound leaves no time to challenge at all.
        guard spec.disputeWindowBlocks > spec.inclusionBlocksMax else {
            throw reader.error(
                map["disputeWindow"] ?? map["inclusionBlocksMax"] ?? node,
                "settlement.disputeWindow (\(spec.disputeWindowBlocks) blocks) must be longer than settlement.inclusionBlocksMax (\(spec.inclusionBlocksMax)), or no challenge could be included in time")
        }
        return spec
    }

    func settlementExpectation(_ node: Node, count: Int) throws(ScenarioError) -> SettlementExpectation {
        let map = try reader.mapping(node, "expect.settlement", allowed: ["finalized", "challengeWon", "exits", "honestLoss"])
        var expect = SettlementExpectation()
        if let value = map["finalized"] { expect.finalized = try reader.bool(value, "expect.settlement.finalized") }
        if let value = map["challengeWon"] { expect.challengeWon = try reader.bool(value, "expect.settlement.challengeWon") }
        if let value = map["exits"] {
            if case let .sequence(items) = value, items.isEmpty { expect.exits = [] } else {
                expect.exits = try participantList(value, count: count, "expect.settlement.exits").sorted()
            }
        }
        if let value = map["honestLoss"] {
            if case let .sequence(items) = value, items.isEmpty { expect.honestLoss = [] } else {
                expect.honestLoss = try participantList(value, count: count, "expect.settlement.honestLoss").sorted()
            }
        }
        return expect
    }

    func byzantine(_ node: Node, count: Int, duration: SimDuration, roles: [Int: Role]) throws(ScenarioError) -> ByzantineScript {
        let map = try reader.mapping(node, "byzantine script", allowed: ["participant", "do", "at", "from", "until", "every", "kind", "mutation", "count", "target"])
        let who = try participant(try reader.require(map, "participant", in: "byzantine script", at: node), count: count, "byzantine.participant")
        let doNode = try reader.require(map, "do", in: "byzantine script", at: node)
        let name = try reader.string(doNode, "byzantine.do")
        let strategy: ByzantineStrategy
        switch name {
        case "invalid":
            let kindNode = try reader.require(map, "kind", in: "invalid script", at: node)
            let text = try reader.string(kindNode, "byzantine.kind")
            let appKinds = LabApplications.strategyNames(invalidKinds: true)
            if let kind = InvalidKind(rawValue: text) {
                if kind == .permission, roles[who] != .observer {
                    throw reader.error(kindNode, "a permission violation needs a participant whose role lacks it (make participant \(who) an observer)")
                }
                strategy = .invalid(kind)
            } else if let appKind = appKinds.first(where: { $0.name == text }) {
                strategy = .application(appKind)
            } else {
                let known = InvalidKind.allCases.map(\.rawValue) + appKinds.map(\.name)
                throw reader.error(kindNode, "unknown invalid kind '\(text)' (expected one of: \(known.joined(separator: ", ")))")
            }
        case "flood":
            strategy = .flood(count: Int(try map["count"].map { value throws(ScenarioError) in try reader.integer(value, "byzantine.count", 1...10_000) } ?? 100))
        case "mutate":
            let mutationNode = try reader.require(map, "mutation", in: "mutate script", at: node)
            let text = try reader.string(mutationNode, "byzantine.mutation")
            guard let mutation = Mutation(rawValue: text) else {
                throw reader.error(mutationNode, "unknown mutation '\(text)' (expected one of: \(Mutation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            strategy = .mutate(mutation)
        default:
            guard let registered = ByzantineStrategy.registered(name) else {
                throw reader.error(doNode, "unknown Byzantine strategy '\(name)' (expected one of: \(ByzantineStrategy.names.joined(separator: ", ")))")
            }
            strategy = registered
        }
        var script = ByzantineScript(participant: who, strategy: strategy, from: .zero, until: SimInstant(micros: duration.micros), every: nil, target: nil)
        if let value = map["at"] {
            guard map["from"] == nil else { throw reader.error(value, "give either at or from, not both") }
            script.from = SimInstant(micros: try reader.duration(value, "byzantine.at").micros)
            if !strategy.isBehaviour { script.until = script.from }
        }
        if let value = map["from"] { script.from = SimInstant(micros: try reader.duration(value, "byzantine.from").micros) }
        if let value = map["until"] { script.until = SimInstant(micros: try reader.duration(value, "byzantine.until").micros) }
        guard script.from <= script.until else { throw reader.error(map["until"] ?? node, "byzantine.until is before its start") }
        guard script.until.micros <= duration.micros else { throw reader.error(map["until"] ?? map["at"] ?? node, "byzantine script ends after the run (\(duration))") }
        if let value = map["every"] {
            let every = try reader.duration(value, "byzantine.every", max: .seconds(3600))
            guard every.micros >= 1000 else { throw reader.error(value, "byzantine.every must be at least 1ms") }
            script.every = every
        }
        if let value = map["target"] {
            let target = try participant(value, count: count, "byzantine.target")
            guard target != who else { throw reader.error(value, "a script's target must be another participant") }
            script.target = target
        }
        return script
    }

    func expectations(_ node: Node, count: Int, settles: Bool) throws(ScenarioError) -> Expectations {
        let map = try reader.mapping(node, "expect", allowed: ["converge", "violations", "sometimes", "settlement", "evidence", "slashed"])
        var expect = Expectations()
        if let value = map["converge"] { expect.converge = try reader.bool(value, "expect.converge") }
        if let value = map["violations"] {
            expect.violations = try reader.sequence(value, "expect.violations").map { item throws(ScenarioError) in
                let name = try reader.string(item, "invariant")
                guard Invariant(rawValue: name) != nil else {
                    throw reader.error(item, "unknown invariant '\(name)' (expected one of: \(Invariant.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return name
            }
        }
        if let value = map["sometimes"] {
            expect.sometimes = try reader.sequence(value, "expect.sometimes").map { item throws(ScenarioError) in
                let name = try reader.string(item, "sometimes")
                guard Sometimes(rawValue: name) != nil else {
                    throw reader.error(item, "unknown sometimes-assertion '\(name)' (expected one of: \(Sometimes.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return name
            }
        }
        if let value = map["evidence"] {
            let list = { (node: Node, what: String) throws(ScenarioError) -> [EvidenceExpectation] in
                try reader.sequence(node, what).map { item throws(ScenarioError) in
                    let entry = try reader.mapping(item, "expected evidence", allowed: ["against", "kind"])
                    let against = try participant(try reader.require(entry, "against", in: "expected evidence", at: item), count: count, "evidence.against")
                    let kindNode = try reader.require(entry, "kind", in: "expected evidence", at: item)
                    let kind = try reader.string(kindNode, "evidence.kind")
                    guard ["equivocation", "invalid-in-causal-past", "broken-chain"].contains(kind) else {
                        throw reader.error(kindNode, "unknown evidence kind '\(kind)' (nodes hold equivocation, invalid-in-causal-past or broken-chain evidence; stale proposals show in expect.slashed)")
                    }
                    return EvidenceExpectation(against: against, kind: kind)
                }
            }
            if case .mapping = value {
                let forms = try reader.mapping(value, "expect.evidence", allowed: ["includes", "allows"])
                let includesNode = try reader.require(forms, "includes", in: "expect.evidence", at: value)
                expect.evidence = EvidenceExpectations(
                    includes: try list(includesNode, "expect.evidence.includes"),
                    allows: try forms["allows"].map { node throws(ScenarioError) in try list(node, "expect.evidence.allows") })
            } else {
                expect.evidence = .exactly(try list(value, "expect.evidence"))
            }
        }
        if let value = map["slashed"] {
            if case let .sequence(items) = value, items.isEmpty { expect.slashed = [] } else {
                expect.slashed = try participantList(value, count: count, "expect.slashed").sorted()
            }
        }
        if let value = map["settlement"] {
            guard settles else { throw reader.error(value, "expect.settlement needs a settlement section") }
            expect.settlement = try settlementExpectation(value, count: count)
        }
        return expect
    }
}

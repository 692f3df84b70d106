import ChannelCore
import Foundation
import Yams

/// Loads and validates scenario files (schema: docs/scenarios.md). Every problem is a
/// `ScenarioError` naming file, line and column; nothing in a file can crash the loader.
public enum ScenarioLoader {
    /// Largest scenario file, in bytes.
    public static let fileBytesMax = 1 << 20

    /// Loads one file.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ScenarioError(file: path, line: 1, column: 1, message: "not a readable file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, size <= fileBytesMax else {
            throw ScenarioError(file: path, line: 1, column: 1, message: "not a regular file of at most \(fileBytesMax) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(file: path, line: 1, column: 1, message: "cannot read file")
        }
        guard data.count <= fileBytesMax else {
            throw ScenarioError(file: path, line: 1, column: 1, message: "file is \(data.count) bytes, limit \(fileBytesMax)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: 1, column: 1, message: "file is not UTF-8")
        }
        return try parse(text, file: path)
    }

    /// The scenario files of a directory (`.yaml`/`.yml`, not recursing), sorted by name.
    public static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }

    /// Parses scenario text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 1, column: 1, message: "empty scenario")
            }
            root = node
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw ScenarioError(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
        return try ScenarioParser(reader: YAMLReader(file: file)).scenario(root)
    }

    private static func yamlError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ScenarioError(file: file, line: context.mark.line, column: context.mark.column, message: "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return ScenarioError(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
    }
}

/// Builds a `Scenario` from a composed YAML document, section by section.
struct ScenarioParser {
    let reader: YAMLReader

    func scenario(_ root: Node) throws(ScenarioError) -> Scenario {
        let top = try reader.mapping(root, "scenario", allowed: [
            "name", "description", "seed", "duration", "tokens", "participants", "network", "node", "chain",
            "faults", "workloads", "liveness", "expect", "settlement", "byzantine", "applications",
        ])
        let name = try reader.string(try reader.require(top, "name", in: "scenario", at: root), "name")
        let duration = try reader.duration(try reader.require(top, "duration", in: "scenario", at: root), "duration")
        guard duration.micros > 0 else { throw reader.error(top["duration"], "duration must be positive") }
        let participantsNode = try reader.require(top, "participants", in: "scenario", at: root)
        let (count, roles, deposit) = try participants(participantsNode)
        var tokens: [TokenID] = [0]
        if let node = top["tokens"] {
            tokens = try reader.sequence(node, "tokens").map { node throws(ScenarioError) in TokenID(try reader.integer(node, "token", 0...UInt64(UInt32.max))) }
            guard !tokens.isEmpty, tokens.count <= ChannelConfig.tokensMax, Set(tokens).count == tokens.count else {
                throw reader.error(node, "tokens must be 1...\(ChannelConfig.tokensMax) distinct numbers")
            }
        }
        var scenario = Scenario(
            name: name, description: try top["description"].map { node throws(ScenarioError) in try reader.string(node, "description") } ?? "",
            file: reader.file, seed: try top["seed"].map { node throws(ScenarioError) in try reader.integer(node, "seed", 0...UInt64.max) } ?? 1,
            duration: duration, participantCount: count, roles: roles, initialDeposit: deposit, tokens: tokens,
            network: NetworkConfig(), node: NodeConfig(), blockInterval: .seconds(1), faults: [], workloads: [],
            livenessBound: .seconds(60), settlement: nil, expect: Expectations())
        if let node = top["network"] { scenario.network = try network(node, count: count) }
        if let node = top["node"] { scenario.node = try nodeConfig(node) }
        if let node = top["chain"] {
            let map = try reader.mapping(node, "chain", allowed: ["blockInterval"])
            if let value = map["blockInterval"] {
                scenario.blockInterval = try reader.duration(value, "chain.blockInterval")
                guard scenario.blockInterval.micros >= 1000 else { throw reader.error(value, "chain.blockInterval must be at least 1ms") }
            }
        }
        if let node = top["faults"] { scenario.faults = try faults(node, count: count, duration: duration) }
        if let node = top["applications"] { scenario.applications = try applications(node, tokens: tokens, count: count) }
        if let node = top["workloads"] {
            scenario.workloads = try reader.sequence(node, "workloads").map { node throws(ScenarioError) in
                let spec = try workload(node, count: count, duration: duration, roles: roles, applications: scenario.applications)
                guard tokens.contains(spec.token) else {
                    let map = try reader.mapping(node, "workload", allowed: Self.workloadKeys)
                    throw reader.error(map["token"] ?? node, "workload.token \(spec.token) is not one of the channel's tokens \(tokens)")
                }
                return spec
            }
        }
        if let node = top["liveness"] {
            let map = try reader.mapping(node, "liveness", allowed: ["bound"])
            if let bound = map["bound"] {
                scenario.livenessBound = try reader.duration(bound, "liveness.bound")
                guard scenario.livenessBound.micros > 0 else { throw reader.error(bound, "liveness.bound must be positive") }
            }
        }
        if let node = top["settlement"] { scenario.settlement = try settlement(node, count: count, duration: duration) }
        if let node = top["byzantine"] {
            let items = try reader.sequence(node, "byzantine")
            scenario.byzantine = try items.map { item throws(ScenarioError) in
                try byzantine(item, count: count, duration: duration, roles: roles)
            }
            // An application's strategy acts in that application: it must be enabled.
            for (item, script) in zip(items, scenario.byzantine) {
                guard case let .application(name) = script.strategy, !scenario.applications.contains(where: { $0.name == name.application }) else { continue }
                throw reader.error(item, "a \(script.strategy) script needs the \(name.application) application (applications: \(name.application): ...)")
            }
            let chainSide: [ByzantineStrategy] = [.staleProposal, .hastyFinalize, .challengeOldest, .claimTwice, .forgeProofs, .inflatePrevious]
            if let script = scenario.byzantine.first(where: { chainSide.contains($0.strategy) }), scenario.settlement == nil {
                throw reader.error(node, "a \(script.strategy) script needs a settlement section")
            }
        }
        if let node = top["expect"] { scenario.expect = try expectations(node, count: count, settles: scenario.settlement != nil) }
        var scheduled = 0
        for workload in scenario.workloads {
            scheduled += workload.participants.count * (workload.bursts.reduce(0) { $0 + $1.count } + 1)
            guard scheduled <= Scenario.burstOpsMax else {
                throw reader.error(top["workloads"], "workloads burst \(scheduled)+ operations in all, limit \(Scenario.burstOpsMax)")
            }
        }
        let rateTotal = scenario.workloads.reduce(UInt64(0)) { $0 + $1.ratePerSecond * UInt64($1.participants.count) }
        guard rateTotal * max(1, duration.micros / 1_000_000) <= UInt64(Scenario.burstOpsMax) else {
            throw reader.error(top["workloads"], "workloads would issue about \(rateTotal * (duration.micros / 1_000_000)) operations, limit \(Scenario.burstOpsMax)")
        }
        return scenario
    }

    func participants(_ node: Node) throws(ScenarioError) -> (Int, [Int: Role], UInt64) {
        let map = try reader.mapping(node, "participants", allowed: ["count", "roles", "deposit"])
        let count = Int(try reader.integer(try reader.require(map, "count", in: "participants", at: node), "participants.count", 2...UInt64(Scenario.participantsMax)))
        var roles = [Int: Role]()
        if let rolesNode = map["roles"] {
            guard case let .mapping(mapping) = rolesNode else { throw reader.error(rolesNode, "participants.roles must map participant numbers to roles") }
            for (key, value) in mapping {
                let index = Int(try reader.integer(key, "participant number", 0...UInt64(count - 1)))
                let text = try reader.string(value, "role")
                guard let role = Role(rawValue: text) else {
                    throw reader.error(value, "unknown role '\(text)' (expected one of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                roles[index] = role
            }
        }
        let deposit = try map["deposit"].map { node throws(ScenarioError) in try reader.integer(node, "participants.deposit", 0...UInt64(1) << 60) } ?? 1000
        return (count, roles, deposit)
    }

    func participant(_ node: Node, count: Int, _ what: String) throws(ScenarioError) -> Int {
        if case let .scalar(scalar) = node, let value = Int(scalar.string), value >= count {
            throw reader.error(node, "unknown participant \(value) in \(what) (participants are 0...\(count - 1))")
        }
        return Int(try reader.integer(node, what, 0...UInt64(count - 1)))
    }

    func participantList(_ node: Node, count: Int, _ what: String) throws(ScenarioError) -> [Int] {
        if case let .scalar(scalar) = node, scalar.string == "all" { return Array(0..<count) }
        let list = try reader.sequence(node, what).map { item throws(ScenarioError) in try participant(item, count: count, what) }
        guard !list.isEmpty else { throw reader.error(node, "\(what) must not be empty") }
        guard Set(list).count == list.count else { throw reader.error(node, "\(what) lists a participant twice") }
        return list
    }

    func latency(_ node: Node) throws(ScenarioError) -> LatencyModel {
        let map = try reader.mapping(node, "latency", allowed: ["fixed", "uniform", "longTail"])
        guard map.count == 1 else { throw reader.error(node, "latency needs exactly one of fixed, uniform, longTail") }
        if let value = map["fixed"] { return .fixed(try reader.duration(value, "latency.fixed", max: .seconds(60))) }
        if let value = map["uniform"] {
            let bounds = try reader.sequence(value, "latency.uniform")
            guard bounds.count == 2 else { throw reader.error(value, "latency.uniform needs [min, max]") }
            let min = try reader.duration(bounds[0], "latency.uniform min", max: .seconds(60))
            let max = try reader.duration(bounds[1], "latency.uniform max", max: .seconds(60))
            guard min <= max else { throw reader.error(value, "latency.uniform min \(min) exceeds max \(max)") }
            return .uniform(min: min, max: max)
        }
        let tail = try reader.mapping(map["longTail"]!, "latency.longTail", allowed: ["median", "max"])
        let median = try reader.duration(try reader.require(tail, "median", in: "latency.longTail", at: map["longTail"]!), "latency.longTail.median", max: .seconds(60))
        let max = try reader.duration(try reader.require(tail, "max", in: "latency.longTail", at: map["longTail"]!), "latency.longTail.max", max: .seconds(60))
        guard median <= max else { throw reader.error(map["longTail"], "latency.longTail median exceeds max") }
        return .longTail(median: median, max: max)
    }

    func linkFaults(_ map: [String: Node], base: LinkFaults) throws(ScenarioError) -> LinkFaults {
        var faults = base
        if let node = map["latency"] { faults.latency = try latency(node) }
        if let node = map["loss"] { faults.lossPerMillion = try reader.probability(node, "loss") }
        if let node = map["duplicate"] { faults.duplicatePerMillion = try reader.probability(node, "duplicate") }
        if let node = map["reorder"] { faults.reorderPerMillion = try reader.probability(node, "reorder") }
        if let node = map["reorderDelayMax"] { faults.reorderDelayMax = try reader.duration(node, "reorderDelayMax", max: .seconds(60)) }
        return faults
    }

    func network(_ node: Node, count: Int) throws(ScenarioError) -> NetworkConfig {
        let map = try reader.mapping(node, "network", allowed: ["latency", "loss", "duplicate", "reorder", "reorderDelayMax", "messageBytesMax", "links"])
        var config = NetworkConfig(defaults: try linkFaults(map, base: LinkFaults()))
        if let value = map["messageBytesMax"] {
            config.messageBytesMax = Int(try reader.integer(value, "network.messageBytesMax", 4096...UInt64(NetworkConfig.messageBytesCeiling)))
        }
        if let links = map["links"] {
            for link in try reader.sequence(links, "network.links") {
                let linkMap = try reader.mapping(link, "link", allowed: ["from", "to", "latency", "loss", "duplicate", "reorder", "reorderDelayMax", "bothWays"])
                let from = try participant(try reader.require(linkMap, "from", in: "link", at: link), count: count, "link.from")
                let to = try participant(try reader.require(linkMap, "to", in: "link", at: link), count: count, "link.to")
                guard from != to else { throw reader.error(link, "a link joins two different participants") }
                let faults = try linkFaults(linkMap, base: config.defaults)
                config.overrides[LinkKey(from: from, to: to)] = faults
                if let both = linkMap["bothWays"], try reader.bool(both, "bothWays") { config.overrides[LinkKey(from: to, to: from)] = faults }
            }
        }
        return config
    }

    func nodeConfig(_ node: Node) throws(ScenarioError) -> NodeConfig {
        let map = try reader.mapping(node, "node", allowed: ["gossipInterval", "gossipFanout", "syncInterval", "syncBatchOpsMax"])
        var config = NodeConfig()
        if let value = map["gossipInterval"] { config.gossipInterval = try reader.duration(value, "node.gossipInterval", max: .seconds(60)) }
        if let value = map["syncInterval"] { config.syncInterval = try reader.duration(value, "node.syncInterval", max: .seconds(60)) }
        if let value = map["gossipFanout"] { config.gossipFanout = Int(try reader.integer(value, "node.gossipFanout", 0...64)) }
        if let value = map["syncBatchOpsMax"] { config.syncBatchOpsMax = Int(try reader.integer(value, "node.syncBatchOpsMax", 1...4096)) }
        guard config.gossipInterval.micros >= 100, config.syncInterval.micros >= 100 else {
            throw reader.error(node, "node intervals must be at least 100us")
        }
        return config
    }

    func faults(_ node: Node, count: Int, duration: SimDuration) throws(ScenarioError) -> [ScheduledFault] {
        var out = [ScheduledFault]()
        var crashed = Set<Int>()
        var offline = Set<Int>()
        var partitioned = false
        let items = try reader.sequence(node, "faults")
        // Validate in time order, so "heal before partition" is caught wherever it is written.
        var timed = [(SimInstant, Node)]()
        for item in items {
            let map = try reader.mapping(item, "fault", allowed: ["at", "partition", "heal", "crash", "restart", "offline", "online", "congest"])
            let at = try reader.duration(try reader.require(map, "at", in: "fault", at: item), "fault.at")
            guard at <= duration else { throw reader.error(map["at"], "fault at \(at) is after the end of the run (\(duration))") }
            timed.append((SimInstant(micros: at.micros), item))
        }
        for (at, item) in timed.enumerated().sorted(by: { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }).map({ $0.element }) {
            let map = try reader.mapping(item, "fault", allowed: ["at", "partition", "heal", "crash", "restart", "offline", "online", "congest"])
            let kinds = map.keys.filter { $0 != "at" }
            guard kinds.count == 1 else { throw reader.error(item, "a fault needs exactly one of partition, heal, crash, restart, offline, online, congest") }
            let fault: Fault
            switch kinds[0] {
            case "partition":
                let value = map["partition"]!
                if case .mapping = value {
                    let oneWay = try reader.mapping(value, "one-way partition", allowed: ["from", "to"])
                    let from = try participantList(try reader.require(oneWay, "from", in: "one-way partition", at: value), count: count, "partition.from")
                    let to = try participantList(try reader.require(oneWay, "to", in: "one-way partition", at: value), count: count, "partition.to")
                    guard Set(from).isDisjoint(with: to) else { throw reader.error(value, "a one-way partition needs disjoint from and to") }
                    fault = .oneWay(from: from, to: to)
                } else {
                    let groups = try reader.sequence(value, "partition").map { group throws(ScenarioError) in try participantList(group, count: count, "partition group") }
                    guard groups.count >= 2 else { throw reader.error(value, "a partition needs at least two groups") }
                    var seen = Set<Int>()
                    for group in groups { for member in group where !seen.insert(member).inserted {
                        throw reader.error(value, "participant \(member) is in two partition groups")
                    } }
                    fault = .partition(groups)
                }
                partitioned = true
            case "congest":
                let duration = try reader.duration(map["congest"]!, "congest")
                guard duration.micros > 0 else { throw reader.error(map["congest"], "congest needs a positive duration") }
                fault = .congestion(duration)
            case "heal":
                guard try reader.string(map["heal"]!, "heal") == "all" else { throw reader.error(map["heal"], "heal takes the value 'all'") }
                guard partitioned else { throw reader.error(map["heal"], "heal at \(at) before any partition") }
                partitioned = false
                fault = .heal
            case "crash":
                let who = try participant(map["crash"]!, count: count, "crash")
                guard crashed.insert(who).inserted else { throw reader.error(map["crash"], "participant \(who) is already crashed at \(at)") }
                fault = .crash(who)
            case "restart":
                let who = try participant(map["restart"]!, count: count, "restart")
                guard crashed.remove(who) != nil else { throw reader.error(map["restart"], "restart of participant \(who) at \(at), which has not crashed") }
                fault = .restart(who)
            case "offline":
                let who = try participant(map["offline"]!, count: count, "offline")
                guard offline.insert(who).inserted else { throw reader.error(map["offline"], "participant \(who) is already offline at \(at)") }
                fault = .offline(who)
            default:
                let who = try participant(map["online"]!, count: count, "online")
                guard offline.remove(who) != nil else { throw reader.error(map["online"], "online of participant \(who) at \(at), which is not offline") }
                fault = .online(who)
            }
            out.append(ScheduledFault(at: at, fault: fault))
        }
        return out
    }

    /// `applications: {<name>: <its configuration>}`: each name a registered application.
    func applications(_ node: Node, tokens: [TokenID], count: Int) throws(ScenarioError) -> [any ApplicationConfig] {
        let map = try reader.mapping(node, "applications", allowed: LabApplications.all.map(\.name))
        var out = [any ApplicationConfig]()
        for app in LabApplications.all {
            guard let value = map[app.name] else { continue }
            out.append(try app.config(value, reader: reader, tokens: tokens, participants: count))
        }
        return out
    }

    static let workloadKeys = ["participants", "rate", "mix", "amount", "targets", "token", "from", "until", "bursts"] + LabApplications.all.map(\.name)

    func workload(_ node: Node, count: Int, duration: SimDuration, roles: [Int: Role], applications: [any ApplicationConfig] = []) throws(ScenarioError) -> WorkloadSpec {
        let map = try reader.mapping(node, "workload", allowed: Self.workloadKeys)
        let who = try participantList(try reader.require(map, "participants", in: "workload", at: node), count: count, "workload.participants")
        for participant in who where roles[participant] == .observer {
            throw reader.error(map["participants"], "participant \(participant) is an observer and cannot hold funds")
        }
        var spec = WorkloadSpec(
            participants: who, ratePerSecond: 0, transferWeight: 80, depositWeight: 10, withdrawWeight: 10,
            amountMin: 1, amountMax: 100, targets: [], token: 0, from: .zero, until: SimInstant(micros: duration.micros), bursts: [])
        if let value = map["rate"] { spec.ratePerSecond = try reader.integer(value, "workload.rate (operations per second)", 0...100_000) }
        if let value = map["mix"] {
            let mix = try reader.mapping(value, "workload.mix", allowed: ["transfer", "deposit", "withdraw", "lock", "anchor", "unlock"])
            spec.transferWeight = try mix["transfer"].map { node throws(ScenarioError) in try reader.integer(node, "mix.transfer", 0...1000) } ?? 0
            spec.depositWeight = try mix["deposit"].map { node throws(ScenarioError) in try reader.integer(node, "mix.deposit", 0...1000) } ?? 0
            spec.withdrawWeight = try mix["withdraw"].map { node throws(ScenarioError) in try reader.integer(node, "mix.withdraw", 0...1000) } ?? 0
            spec.lockWeight = try mix["lock"].map { node throws(ScenarioError) in try reader.integer(node, "mix.lock", 0...1000) } ?? 0
            spec.anchorWeight = try mix["anchor"].map { node throws(ScenarioError) in try reader.integer(node, "mix.anchor", 0...1000) } ?? 0
            spec.unlockWeight = try mix["unlock"].map { node throws(ScenarioError) in try reader.integer(node, "mix.unlock", 0...1000) } ?? 0
            guard spec.transferWeight + spec.depositWeight + spec.withdrawWeight + spec.lockWeight + spec.anchorWeight + spec.unlockWeight > 0 else {
                throw reader.error(value, "workload.mix needs a positive weight")
            }
        }
        if let value = map["amount"] {
            let bounds = try reader.sequence(value, "workload.amount")
            guard bounds.count == 2 else { throw reader.error(value, "workload.amount needs [min, max]") }
            spec.amountMin = try reader.integer(bounds[0], "workload.amount min", 1...UInt64(1) << 60)
            spec.amountMax = try reader.integer(bounds[1], "workload.amount max", 1...UInt64(1) << 60)
            guard spec.amountMin <= spec.amountMax else { throw reader.error(value, "workload.amount min exceeds max") }
        }
        if let value = map["targets"] {
            if case let .scalar(scalar) = value, scalar.string == "any" {
                spec.targets = []
            } else {
                spec.targets = try participantList(value, count: count, "workload.targets")
                for target in spec.targets where roles[target] == .observer {
                    throw reader.error(value, "target \(target) is an observer and cannot hold funds")
                }
            }
        }
        if let value = map["token"] { spec.token = TokenID(try reader.integer(value, "workload.token", 0...UInt64(UInt32.max))) }
        if let value = map["from"] { spec.from = SimInstant(micros: try reader.duration(value, "workload.from").micros) }
        if let value = map["until"] { spec.until = SimInstant(micros: try reader.duration(value, "workload.until").micros) }
        guard spec.from <= spec.until else { throw reader.error(map["until"], "workload.until is before workload.from") }
        guard spec.until.micros <= duration.micros else { throw reader.error(map["until"], "workload.until is after the end of the run (\(duration))") }
        if let value = map["bursts"] {
            for burst in try reader.sequence(value, "workload.bursts") {
                let burstMap = try reader.mapping(burst, "burst", allowed: ["at", "count"])
                let at = try reader.duration(try reader.require(burstMap, "at", in: "burst", at: burst), "burst.at")
                guard at <= duration else { throw reader.error(burstMap["at"], "burst at \(at) is after the end of the run") }
                let count = Int(try reader.integer(try reader.require(burstMap, "count", in: "burst", at: burst), "burst.count", 1...1_000_000))
                spec.bursts.append(WorkloadBurst(at: SimInstant(micros: at.micros), count: count))
            }
        }
        for app in LabApplications.all {
            guard let value = map[app.name] else { continue }
            guard let config = applications.first(where: { $0.name == app.name }) else {
                throw reader.error(value, "workload.\(app.name) needs the application enabled under applications.\(app.name)")
            }
            guard spec.application == nil else { throw reader.error(value, "a workload drives one application") }
            spec.application = ApplicationWorkload(application: app.name, spec: try app.workload(value, reader: reader, config: config))
        }
        return spec
    }

}

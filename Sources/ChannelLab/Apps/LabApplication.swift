import Foundation
import ChannelCore
import Yams

/// An application's part in the lab (docs/apps/README.md): its configuration in scenario files,
/// its workloads, its invariant checkers and its report. One folder
/// `Sources/ChannelLab/Apps/<App>/` per application, registered in `LabApplications.all`.
protocol LabApplication: Sendable {
    /// The application's name (`ChannelApplication.name`), also its key in scenario files.
    var name: String { get }
    /// Parses `applications.<name>` of a scenario.
    func config(_ node: Node, reader: YAMLReader, tokens: [TokenID], participants: Int) throws(ScenarioError) -> any ApplicationConfig
    /// Parses a workload's `<name>` section (what the workload's participants do in it).
    func workload(_ node: Node, reader: YAMLReader, config: any ApplicationConfig) throws(ScenarioError) -> any ApplicationWorkloadSpec
    /// The checkers one run of a channel enabling the application uses.
    func checkers(config: ChannelConfig, honest: Set<Int>) -> [any ApplicationChecker]
    /// What an own operation of the application debits from its author's balance per token
    /// (the node's bound on what it may still spend).
    func ownDebits(_ payload: ApplicationPayload, config: ChannelConfig) -> [(TokenID, Amount)]
    /// The application's part of a run report (JSON object), from an honest replica's state.
    func report(_ state: ChannelState) -> ApplicationReport?
    /// The Byzantine strategies the application brings, each registered by its YAML name.
    var strategies: [any ApplicationStrategy.Type] { get }
    /// The invariants its checkers report (listed in reports and docs beside the lab's own).
    var invariants: [Invariant] { get }
    /// The swarm generator's hook: draws the application's part of a generated scenario from
    /// the generator's stream (after every other draw), or `nil` for none.
    func generate(_ rng: inout SeededRandom) -> GeneratedApplication?
    /// Its experiments (`chanlab experiment <name>`), each measuring an attack over seeds.
    var experiments: [any LabExperiment] { get }
    /// An independent model of the application, written from its docs (`nil`: none yet). With
    /// one for every application a channel enables, the ledger model judges that channel's
    /// leaves, root and refusals like a payment channel's.
    func model(_ config: any ApplicationConfig) -> (any ApplicationModel)?
    /// Whether it has a benchmark (`chanlab bench --app <name>`).
    var hasBench: Bool { get }
    /// Runs its benchmark (`nil` when it has none).
    func bench(now: () -> UInt64, log: (String) -> Void) -> LabMeasurement?
}

/// An independent model of an application, run by `LedgerModel` at the operation's place in
/// its own total order, on its own accounts.
protocol ApplicationModel {
    /// The payload kinds it owns.
    var kinds: ClosedRange<UInt8> { get }
    /// Applies one operation of the application: `nil`, or the refusal (its record's reason
    /// bytes from the `0x1E` code on, whether it depends on state, whether it is void). It
    /// may do housekeeping due at that place even when it refuses.
    mutating func apply(
        _ op: SignedOperation, _ payload: ApplicationPayload, chainHeight: UInt64, depth: UInt64, role: Role,
        accounts: inout [LedgerModel.AccountID: LedgerModel.AccountState]
    ) -> LedgerModel.Refusal?
    /// Its state leaves, in order (after the ledger's).
    func leaves() -> [[UInt8]]
}

/// An experiment an application brings: a measurement over many seeds (`chanlab experiment`).
protocol LabExperiment: Sendable {
    /// Its name on the command line.
    var name: String { get }
    /// One line on what it measures.
    var summary: String { get }
    /// Most seeds one invocation may run.
    var seedsMax: Int { get }
    /// Runs over `seeds`, telling `progress` what it is at; a bad built-in scenario is a
    /// `ScenarioError`.
    func run(seeds: ClosedRange<UInt64>, progress: (String) -> Void) throws(ScenarioError) -> LabMeasurement
}

/// What an experiment or an application's benchmark measured: lines for people (a Markdown
/// table, figures) and the same as JSON.
public struct LabMeasurement: Sendable {
    public let lines: [String]
    public let json: String
}

/// Applications' experiments and benchmarks, for the command line.
public enum LabMeasurements {
    /// Every experiment's name and summary, in registration order.
    public static var experiments: [(name: String, summary: String, seedsMax: Int)] {
        LabApplications.all.flatMap(\.experiments).map { ($0.name, $0.summary, $0.seedsMax) }
    }

    /// Runs the experiment `name` over `seeds`; `nil` when no application has one of that name.
    public static func experiment(_ name: String, seeds: ClosedRange<UInt64>, progress: (String) -> Void) throws(ScenarioError) -> LabMeasurement? {
        guard let experiment = LabApplications.all.flatMap(\.experiments).first(where: { $0.name == name }) else { return nil }
        precondition(seeds.count <= experiment.seedsMax, "the command line checks the seed count")
        return try experiment.run(seeds: seeds, progress: progress)
    }

    /// The applications that have a benchmark.
    public static var benchmarked: [String] {
        LabApplications.all.filter(\.hasBench).map(\.name)
    }

    /// Runs the benchmark of application `name`; `nil` when it has none.
    public static func bench(application name: String, now: () -> UInt64, log: (String) -> Void) -> LabMeasurement? {
        LabApplications.named(name)?.bench(now: now, log: log)
    }
}

/// A Byzantine strategy an application brings: a value registered by its YAML name, created
/// once per script (it keeps its own memory between actions) and driven by the lab at every
/// action of the script. Either a strategy of its own (`do: <name>`) or a kind of invalid
/// operation (`do: invalid, kind: <name>`).
protocol ApplicationStrategy: Sendable {
    /// Its name in scenario files.
    static var name: String { get }
    /// Whether it is a kind of invalid operation (`do: invalid, kind: <name>`) rather than a
    /// strategy of its own (`do: <name>`).
    static var isInvalidKind: Bool { get }
    /// For an invalid kind: the lab's own kind it stands for in a generated scenario that does
    /// not enable the application (`nil`: not drawn without it).
    static var withoutApplication: InvalidKind? { get }
    /// A fresh memory for one script.
    init()
    /// One action through `context.node`; sends go to `out`. Returns the misbehaviour evidence
    /// must catch, if the action was attributable.
    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome
}

extension ApplicationStrategy {
    static var withoutApplication: InvalidKind? { nil }
}

/// What one action of an application's strategy did.
enum StrategyOutcome {
    /// It acted (or had nothing to do); with the misbehaviour evidence must catch, if any.
    case done(Attributable?)
    /// The channel holds nothing for it to act on: the lab carries out one of its own invalid
    /// kinds instead (an order overspend without a market is an overdraft).
    case fallBack(InvalidKind)
}

/// What one action of an application's strategy works with: the actor's own node (and its
/// keys through it), its replica, and its script.
struct StrategyContext {
    let config: ChannelConfig
    let node: ChannelNode
    let replica: Replica
    let script: ByzantineScript
    /// The participant the script names as its target (or the first other holder).
    let target: ParticipantIndex
}

/// An application's strategy as it appears in a script: the application and the YAML name.
public struct ApplicationStrategyName: Hashable, Sendable, CustomStringConvertible {
    public let application: String
    public let name: String
    /// `do: invalid, kind: <name>` rather than `do: <name>`.
    public let isInvalidKind: Bool

    public var description: String { isInvalidKind ? "invalid \(name)" : name }
}

/// A workload of an application: which operation a participant submits next.
protocol ApplicationWorkloadSpec: Sendable {
    /// A canonical description of the parameters (equality and hashing of workloads use it).
    var key: String { get }
    /// The next payload `node` submits, or `nil` to skip this turn.
    func next(node: ChannelNode, rng: inout SeededRandom) -> Payload?
}

/// A workload's application part, in `WorkloadSpec`: compared by its canonical key.
public struct ApplicationWorkload: Hashable, Sendable {
    public let application: String
    let spec: any ApplicationWorkloadSpec

    public static func == (a: Self, b: Self) -> Bool { a.application == b.application && a.spec.key == b.spec.key }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(application)
        hasher.combine(spec.key)
    }
}

/// An invariant checker of an application, with the lab's hooks.
protocol ApplicationChecker: AnyObject {
    /// After an honest node's replica applied `op` at its place in the total order (appended
    /// or replayed after a rollback), `refusal` its verdict: sees every intermediate state,
    /// including ones a later rollback undoes (a replica may sign those).
    func onApply(node: Int, op: SignedOperation, refusal: LedgerRejection?, replica: Replica, at time: SimInstant, monitor: InvariantMonitor)
    /// After a delivery changed `node`'s graph (honest nodes only).
    func afterDelivery(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor)
    /// At the end of the run, on every honest replica.
    func atEnd(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor)
}

extension ApplicationChecker {
    func onApply(node: Int, op: SignedOperation, refusal: LedgerRejection?, replica: Replica, at time: SimInstant, monitor: InvariantMonitor) {}
}

/// An application's section of a run report.
public struct ApplicationReport: Sendable, Codable {
    public let application: String
    /// Per market (or pool...) summaries, application-defined.
    public let entries: [[String: String]]
}

/// Every application the lab knows, by name: what the scenario loader and the run consult.
/// Adding an application adds one line here.
enum LabApplications {
    static let all: [any LabApplication] = [OrderBookLab()]

    static func named(_ name: String) -> (any LabApplication)? { all.first { $0.name == name } }

    /// Every application's strategies, by their script name.
    static func strategy(_ name: ApplicationStrategyName) -> (any ApplicationStrategy.Type)? {
        named(name.application)?.strategies.first { $0.name == name.name && $0.isInvalidKind == name.isInvalidKind }
    }

    /// The script names of every application's strategies of one form, in registration order.
    static func strategyNames(invalidKinds: Bool) -> [ApplicationStrategyName] {
        all.flatMap { app in
            app.strategies.filter { $0.isInvalidKind == invalidKinds }
                .map { ApplicationStrategyName(application: app.name, name: $0.name, isInvalidKind: invalidKinds) }
        }
    }
}

/// `value` as pretty JSON with sorted keys (the command line's JSON form).
func jsonText(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}

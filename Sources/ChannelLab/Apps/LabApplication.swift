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
    /// After a delivery changed `node`'s graph (honest nodes only).
    func afterDelivery(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor)
    /// At the end of the run, on every honest replica.
    func atEnd(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor)
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
}

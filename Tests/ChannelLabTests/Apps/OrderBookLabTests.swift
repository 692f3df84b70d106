import ChannelCore
@testable import ChannelLab
import Foundation
import Testing

/// Goal: the order book's lab parts go through the application seam (strategies and
/// invariants registered by name, checked by the loader) and the cancel racer really races.
/// Method: scenario text through the loader; the bundled cancel-race scenario over seeds, with
/// each race it claims to have won checked in an honest replica's total order.
@Suite struct OrderBookLabTests {
    static let header = """
        name: t
        duration: 5s
        tokens: [0, 1]
        participants: {count: 3}

        """
    static let book = """
        applications:
          orderbook:
            markets:
              - {id: 1, base: 0, quote: 1, tick: 1, lot: 1, matching: continuous, makerFeeBps: 0, takerFeeBps: 0, feeRecipient: 0}

        """

    @Test(arguments: ["front-run", "spoof", "wash-trade", "cancel-race"])
    func strategiesAreRegisteredByName(name: String) throws {
        let scenario = try ScenarioLoader.parse(Self.header + Self.book + "byzantine:\n  - {participant: 2, do: \(name), from: 1s, every: 100ms}\n", file: "t.yaml")
        guard case let .application(registered) = scenario.byzantine[0].strategy else {
            Issue.record("\(name) is not an application strategy")
            return
        }
        #expect(registered.application == OrderBook.name && registered.name == name && !registered.isInvalidKind)
        #expect(scenario.byzantine[0].strategy.description == name)
    }

    @Test(arguments: ["order-overspend", "foreign-cancel"])
    func invalidKindsAreRegisteredByName(name: String) throws {
        let scenario = try ScenarioLoader.parse(Self.header + Self.book + "byzantine:\n  - {participant: 2, do: invalid, kind: \(name), at: 1s}\n", file: "t.yaml")
        #expect(scenario.byzantine[0].strategy == .application(ApplicationStrategyName(application: OrderBook.name, name: name, isInvalidKind: true)))
        #expect(scenario.byzantine[0].strategy.description == "invalid \(name)")
    }

    /// An application's strategy without its application is refused at the script, and the
    /// unknown-name errors list the registered names.
    @Test func scriptsOfAnApplicationNeedIt() {
        do {
            _ = try ScenarioLoader.parse(Self.header + "byzantine:\n  - {participant: 2, do: cancel-race, every: 100ms}\n", file: "t.yaml")
            Issue.record("accepted a cancel-race script without an order book")
        } catch {
            #expect(error.line == 6 && error.column == 5)
            #expect(error.message.contains("needs the orderbook application"), "\(error.message)")
        }
        do {
            _ = try ScenarioLoader.parse(Self.header + "byzantine:\n  - {participant: 2, do: explode}\n", file: "t.yaml")
        } catch {
            #expect(error.message.contains("forge-challenge, invalid, flood, mutate, front-run, spoof, wash-trade, cancel-race"), "\(error.message)")
        }
        do {
            _ = try ScenarioLoader.parse(Self.header + "byzantine:\n  - {participant: 2, do: invalid, kind: rude}\n", file: "t.yaml")
        } catch {
            #expect(error.message.contains("broken-rule, reuse-receipt, non-canonical, order-overspend, foreign-cancel"), "\(error.message)")
        }
    }

    /// The application's invariants are registered values: named in scenarios like the lab's
    /// own, unique, and listed by `allCases`.
    @Test func invariantsAreRegistered() throws {
        let names = Invariant.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for name in ["orderbook-fills", "orderbook-escrow", "orderbook-clearing", "conservation"] {
            #expect(Invariant(rawValue: name)?.rawValue == name)
        }
        #expect(Invariant(rawValue: "orderbook-nonsense") == nil)
        let scenario = try ScenarioLoader.parse(Self.header + Self.book + "expect: {violations: [orderbook-fills]}\n", file: "t.yaml")
        #expect(scenario.expect.violations == ["orderbook-fills"])
    }

    /// Every race the cancel racer claims to have won: its cancel sorts before the taker in an
    /// honest replica's total order (same depth, smaller id), and the cancelled order has no
    /// fill made at or after its cancel. The taker's refusals are never evidence.
    @Test(arguments: [UInt64(1), 2, 3])
    func cancelRacerWinsRacesThatHold(seed: UInt64) throws {
        let scenario = try SettlementCheckerTests.scenario("byz-orderbook-cancel-race")
        let run = LabRun(scenario: scenario, seed: seed)
        let report = run.run()
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let racer = try #require(run.byzantineActor.applicationStrategies.values.compactMap { $0 as? CancelRacer }.first)
        #expect(racer.won > 0, "won \(racer.won), lost \(racer.lost)")
        let replica = try #require(run.nodes.first { run.honest.contains(Int($0.index)) }?.replica)
        let position = Dictionary(uniqueKeysWithValues: replica.appliedOrder.enumerated().map { ($1, $0) })
        let fills = (replica.state.application(named: OrderBook.name) as? OrderBookState)?.fills ?? []
        var checked = 0
        for win in racer.wins {
            guard let cancel = position[win.cancel], let taker = position[win.taker] else { continue }
            #expect(cancel < taker)
            #expect(replica.depth(of: win.cancel) == replica.depth(of: win.taker))
            for fill in fills where fill.buy == win.order || fill.sell == win.order {
                #expect(position[fill.at].map { $0 < cancel } ?? true, "order \(win.order) filled after its cancel")
            }
            checked += 1
        }
        #expect(checked > 0)
        #expect(report.evidence.isEmpty)
    }

    /// The independent order-book model (run by the ledger model) agrees with the system on
    /// every bundled order-book scenario (leaves, root, every refusal with its class) and
    /// disagrees with each planted order-book bug: it judges the book from the docs, not
    /// through the system's code.
    @Test(arguments: [
        ("orderbook-continuous", nil), ("orderbook-batch", nil), ("byz-orderbook-overspend", nil), ("byz-orderbook-foreign-cancel", nil),
        ("orderbook-continuous", "orderbook-fill-beyond-remaining"), ("orderbook-continuous", "orderbook-ignore-limit"),
        ("orderbook-continuous", "orderbook-cancel-keeps-escrow"), ("orderbook-continuous", "orderbook-self-trade"),
        ("orderbook-batch", "orderbook-non-uniform-batch"),
    ] as [(String, String?)])
    func theModelJudgesTheBook(scenario name: String, plant: String?) throws {
        let scenario = try SettlementCheckerTests.scenario(name)
        let (core, _, _) = Plants.bugs(named: plant.map { [$0] } ?? [])
        let report = ScenarioRunner.run(scenario, bugs: core)
        let disagreements = report.violations.filter { $0.invariant == .ledgerModel }
        if plant == nil {
            #expect(disagreements.isEmpty, "\(disagreements.prefix(2))")
            #expect(report.passed, "\(report.violations.prefix(2)) \(report.expectationFailures)")
        } else {
            #expect(!disagreements.isEmpty, "\(plant!) not seen by the model")
        }
        #expect(LedgerModel(config: LabRun(scenario: scenario).config).judgesEveryApplication)
    }

    /// The on-apply hook: a bad fill is reported when a replica makes it (with its time), not
    /// only at the end of the run.
    @Test(arguments: ["orderbook-ignore-limit", "orderbook-self-trade"])
    func badFillsAreSeenWhenMade(plant: String) throws {
        let scenario = try SettlementCheckerTests.scenario("orderbook-continuous")
        let (core, _, _) = Plants.bugs(named: [plant])
        let report = ScenarioRunner.run(scenario, bugs: core)
        let whenMade = report.violations.filter { $0.invariant == .orderBookFills && $0.detail.contains("when made") }
        #expect(!whenMade.isEmpty, "\(report.violations.prefix(3))")
        #expect(whenMade.allSatisfy { $0.timeMicros < UInt64(scenario.duration.micros) })
        let clean = ScenarioRunner.run(scenario)
        #expect(clean.passed)
    }
}

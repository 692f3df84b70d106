import ChannelCore

extension LabRun {
    // MARK: Report

    /// Evidence held by any node at the end (sorted, each once), described.
    /// Each enabled application's report, from the first honest replica.
    func applicationReports() -> [ApplicationReport] {
        guard let replica = nodes.first(where: { honest.contains(Int($0.index)) && $0.replica != nil })?.replica else { return [] }
        return LabApplications.all.compactMap { $0.report(replica.state) }
    }

    func evidence() -> [String] {
        var all = Set<Evidence>()
        for node in nodes where honest.contains(Int(node.index)) { all.formUnion(node.replica?.evidence ?? []) }
        return all.sorted().map(\.description)
    }

    func finalReport() -> RunReport {
        var roots = [String]()
        var rejections = 0
        if convergedAt != nil, let first = nodes.first(where: { honest.contains(Int($0.index)) })?.replica {
            // The state and the rejection records, with all their parameters, must agree (graph
            // records only as far as what each node holds allows: see `RejectionAgreement`).
            let firstIndex = nodes.first(where: { honest.contains(Int($0.index)) })!.index
            for node in nodes where honest.contains(Int(node.index)) && node.index != firstIndex {
                let replica = node.replica!
                if replica.stateRoot != first.stateRoot {
                    monitor.report(.convergence, at: now, nodes: [Int(firstIndex), Int(node.index)], "state roots differ at the end")
                }
                for disagreement in RejectionAgreement.disagreements(first, replica).prefix(3) {
                    monitor.report(.convergence, at: now, nodes: [Int(firstIndex), Int(node.index)], "rejection records: \(disagreement)")
                }
            }
            rejections = first.rejections.filter(\.isLedgerRefusal).count
            for id in validAtLimits.prefix(LabRun.checkpointsMax) {
                let refusing = nodes.filter { honest.contains(Int($0.index)) && $0.replica?.contains(id) != true }.map { Int($0.index) }
                guard !refusing.isEmpty else { continue }
                monitor.report(.convergence, at: now, nodes: refusing, operations: [id], "a valid operation at the limit of the format was sent to every node but is not accepted here")
                break
            }

        } else if scenario.expect.converge {
            monitor.report(.convergence, at: now, nodes: Array(nodes.indices), "nodes did not converge")
        }
        for node in nodes {
            guard let replica = node.replica else {
                roots.append("")
                continue
            }
            roots.append(replica.stateRoot.hex)
            for token in scenario.tokens {
                let locked = chain.contract.deposits.filter { $0.key.token == token }.values.reduce(Amount(0), +)
                let credited = replica.balances.depositTotals[token] ?? 0
                if credited > Int128(locked) {
                    monitor.report(.conservation, at: now, nodes: [Int(node.index)], "token \(token): the channel credits \(credited) in deposits but the contract holds \(locked)")
                }
            }
            for token in scenario.tokens where replica.balances.total(of: token) != (replica.balances.depositTotals[token] ?? 0) {
                monitor.report(.conservation, at: now, nodes: [Int(node.index)], "token \(token): recount \(replica.balances.total(of: token)) != deposits \(replica.balances.depositTotals[token] ?? 0)")
            }
        }
        for node in nodes where honest.contains(Int(node.index)) {
            guard let replica = node.replica else { continue }
            ledgerModel.judge(replica: replica, node: Int(node.index), at: now, monitor: monitor)
            for checker in applicationCheckers { checker.atEnd(node: Int(node.index), replica: replica, at: now, monitor: monitor) }
        }
        let settlementReport = settlement?.finish(chain: chain, nodes: nodes, now: now, monitor: monitor)
        // In every run, Byzantine scripts or not: an honest node may hold evidence against an
        // honest participant (after a crash and restart, say) with nobody slashed on chain.
        EvidenceChecker.check(
            nodes: nodes, honest: honest, byzantine: scenario.byzantineParticipants, attributable: attributable, chain: chain,
            bonded: (scenario.settlement?.bond ?? 0) > 0 && scenario.settlement?.proposeAt != nil, config: config, now: now, monitor: monitor,
            ledgerValidityJudgedOnApply: !monitor.judgeValidityAtEnd)
        let hash = trace.finish()
        recorder?.finish(fingerprints: trace.fingerprints, descriptions: trace.descriptions)
        var failures = [String]()
        if let report = settlementReport { failures += settlementFailures(report) }
        if let expected = scenario.expect.evidence {
            var seen = Set<EvidenceExpectation>()
            for node in nodes where honest.contains(Int(node.index)) {
                for evidence in node.replica?.evidence ?? [] { seen.insert(EvidenceExpectation(against: Int(evidence.culprit), kind: evidence.kind)) }
            }
            if let failure = expected.failure(seen: seen) { failures.append(failure) }
        }
        if let expected = scenario.expect.slashed {
            let slashed = chain.contract.slashed.keys.sorted().map { Int($0) }
            if slashed != expected { failures.append("expected \(expected) slashed, saw \(slashed)") }
        }
        let seen = Set(monitor.violations.map(\.invariant.rawValue))
        let expected = Set(scenario.expect.violations)
        for name in seen.subtracting(expected).sorted() { failures.append("unexpected violation of \(name)") }
        for name in expected.subtracting(seen).sorted() { failures.append("expected a violation of \(name), none seen") }
        if scenario.expect.converge && convergedAt == nil { failures.append("expected convergence") }
        for name in scenario.expect.sometimes where !monitor.reached.contains(Sometimes(rawValue: name)!) {
            failures.append("expected sometimes-assertion \(name) never reached")
        }
        let reached = Sometimes.allCases.filter { monitor.reached.contains($0) }.map(\.rawValue)
        let unreached = Sometimes.allCases.filter { !monitor.reached.contains($0) }.map(\.rawValue)
        return RunReport(
            scenario: scenario.name, file: scenario.file, seed: seed, traceHash: hash.hex, passed: failures.isEmpty,
            violations: monitor.violations, violationCount: monitor.violationCount, expectationFailures: failures,
            stateRoots: roots, converged: convergedAt != nil, convergedAtMicros: convergedAt?.micros,
            operations: nodes.map { $0.replica?.operationCount ?? 0 }.max() ?? 0, submitted: submitted, rejections: rejections, droppedOnArrival: droppedOnArrival,
            events: trace.events, simulatedMicros: now.micros, wallMillis: 0, messages: messages,
            signatureVerifications: memo.verifications, evidence: evidence(),
            slashed: chain.contract.slashed.keys.sorted().map { Int($0) }, checkpoints: checkpoints,
            settlement: settlementReport ?? .none(chainHeight: chain.height, congestedBlocks: chain.congestedBlocks),
            payouts: settlement?.payouts ?? [], leftOutOfSettlement: leftOutOfSettlement(),
            applications: applicationReports(), sometimesReached: reached,
            sometimesUnreached: unreached, pendingAtEnd: queue.count + nodes.reduce(0) { $0 + ($1.replica?.pendingCount ?? 0) },
            reproduce: "chanlab run \(scenario.file) --seed \(seed)"
                + Plants.names(core: bugs, contract: chain.contract.bugs, lab: labBugs).map { " --plant \($0)" }.joined())
    }
}

extension LabRun {
    /// The signing rule, judged on every certificate: an honest participant signs only a
    /// checkpoint whose `previous` names a certificate it holds. A certificate naming one that
    /// never existed, with an honest signature on it, is stale-proposal evidence in waiting
    /// against that honest signer (docs/byzantine.md, "The stale-proposal rule").
    func judgeSigners(of signed: SignedCheckpoint) {
        defer { certifiedVersions.insert(signed.checkpoint.version) }
        let previous = signed.checkpoint.previous
        guard previous != 0, !certifiedVersions.contains(previous) else { return }
        let honestSigners = signed.signatures.map { Int($0.signer) }.filter { honest.contains($0) }.sorted()
        guard !honestSigners.isEmpty else { return }
        monitor.report(
            .evidenceSoundness, at: now, nodes: honestSigners,
            "honest participants \(honestSigners) signed checkpoint v\(signed.checkpoint.version), which names a previous certificate v\(previous) that was never certified: their signatures could frame them as stale proposers")
    }

    /// What the finalized checkpoint leaves out of what the first honest node accepted.
    func leftOutOfSettlement() -> LeftOutReport? {
        guard let final = chain.contract.final?.checkpoint,
            let replica = nodes.first(where: { honest.contains(Int($0.index)) && $0.replica != nil })?.replica
        else { return nil }
        return LeftOutReport.compute(final: final, replica: replica, honest: honest, heldBeforeLiveness: heldBeforeLiveness)
    }

    /// The scenario's settlement expectations against what happened.
    func settlementFailures(_ report: SettlementReport) -> [String] {
        let expect = scenario.expect.settlement
        var failures = [String]()
        if let finalized = expect.finalized, finalized != (report.outcome == "finalized") {
            failures.append("expected the settlement \(finalized ? "" : "not ")to be finalized; outcome \(report.outcome)")
        }
        if let won = expect.challengeWon, won != (report.challengesWon > 0) {
            failures.append("expected \(won ? "a" : "no") challenge to win; \(report.challengesWon) won")
        }
        if let exits = expect.exits, exits != report.exits {
            failures.append("expected exits by \(exits), saw \(report.exits)")
        }
        let losers = Array(Set(report.honestLosses.map(\.participant))).sorted()
        if let expected = expect.honestLoss, losers != expected {
            failures.append("expected honest loss for \(expected), saw \(losers)")
        }
        return failures
    }
}

extension RejectionRecord {
    var isLedgerRefusal: Bool {
        if case .ledger = reason { return true }
        return false
    }
}

extension Message {
    var isDepositReceipt: Bool {
        if case .depositReceipt = self { return true }
        return false
    }
}

import ChannelCore

extension LabRun {
    // MARK: Trace

    func traceEvent(_ seq: UInt64, _ event: Event) {
        var bytes = traceBuffer
        bytes.removeAll(keepingCapacity: true)
        defer { traceBuffer = bytes }
        bytes.appendBigEndian(now.micros)
        bytes.appendBigEndian(seq)
        switch event {
        case let .deliver(from, to, sentAt, message):
            bytes.append(1)
            bytes.appendBigEndian(UInt32(from))
            bytes.appendBigEndian(UInt32(to))
            bytes.appendBigEndian(sentAt.micros)
            message.appendTraceBytes(to: &bytes)
        case let .gossip(node):
            bytes.append(2)
            bytes.appendBigEndian(UInt32(node))
        case let .sync(node):
            bytes.append(3)
            bytes.appendBigEndian(UInt32(node))
        case let .workload(actor):
            bytes.append(4)
            bytes.appendBigEndian(UInt32(actor))
        case let .burst(actor, count):
            bytes.append(5)
            bytes.appendBigEndian(UInt32(actor))
            bytes.appendBigEndian(UInt32(count))
        case let .fault(index):
            bytes.append(6)
            bytes.appendBigEndian(UInt32(index))
        case .block:
            bytes.append(7)
        case .livenessStart:
            bytes.append(8)
        case .livenessCheck:
            bytes.append(9)
        case .checkpointTick:
            bytes.append(10)
        case .settle:
            bytes.append(11)
        case .settleTick:
            bytes.append(12)
        case let .byzantine(index):
            bytes.append(13)
            bytes.appendBigEndian(UInt32(index))
        case let .byzantineEnd(index):
            bytes.append(14)
            bytes.appendBigEndian(UInt32(index))
        }
        trace.add(bytes) { "#\(trace.events) at \(now) seq \(seq): \(describe(event))" }
        if let recorder { record(event, in: recorder) }
    }

    /// The structured fields of an event, for a trace file.
    func record(_ event: Event, in recorder: TraceRecorder) {
        switch event {
        case let .deliver(from, to, _, message):
            recorder.event(time: now, kind: "deliver", from: from, to: to, message: message.kind, bytes: message.byteCount)
        case let .gossip(node): recorder.event(time: now, kind: "gossip", node: node)
        case let .sync(node): recorder.event(time: now, kind: "sync", node: node)
        case let .workload(actor): recorder.event(time: now, kind: "workload", node: actors[actor].participant)
        case let .burst(actor, _): recorder.event(time: now, kind: "burst", node: actors[actor].participant)
        case .fault: recorder.event(time: now, kind: "fault")
        case .block: recorder.event(time: now, kind: "block")
        case .livenessStart: recorder.event(time: now, kind: "liveness-start")
        case .livenessCheck: recorder.event(time: now, kind: "liveness-check")
        case .checkpointTick: recorder.event(time: now, kind: "checkpoint-round")
        case .settle: recorder.event(time: now, kind: "settle")
        case .settleTick: recorder.event(time: now, kind: "settle-tick")
        case let .byzantine(index): recorder.event(time: now, kind: "byzantine", node: scenario.byzantine[index].participant)
        case let .byzantineEnd(index): recorder.event(time: now, kind: "byzantine-end", node: scenario.byzantine[index].participant)
        }
    }

    func describe(_ event: Event) -> String {
        switch event {
        case let .deliver(from, to, _, message): return "deliver \(message.kind) \(from)->\(to)"
        case let .gossip(node): return "gossip timer node \(node)"
        case let .sync(node): return "sync timer node \(node)"
        case let .workload(actor): return "workload actor \(actor)"
        case let .burst(actor, count): return "burst actor \(actor) x\(count)"
        case let .fault(index): return "fault \(scenario.faults[index].fault)"
        case .block: return "block"
        case .livenessStart: return "liveness phase starts"
        case .livenessCheck: return "liveness check"
        case .checkpointTick: return "checkpoint round"
        case .settle: return "settlement starts"
        case .settleTick: return "proposer settlement duty"
        case let .byzantine(index): return "byzantine \(scenario.byzantine[index].participant): \(scenario.byzantine[index].strategy)"
        case let .byzantineEnd(index): return "byzantine \(scenario.byzantine[index].participant) stops \(scenario.byzantine[index].strategy)"
        }
    }
}

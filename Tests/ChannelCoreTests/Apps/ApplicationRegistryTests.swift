import ChannelCore
import Testing

/// Goal: what applications register (payload kinds, planted bugs, domain tags) never collides
/// with the channel's own or with another application's. Method: the registries themselves.
@Suite struct ApplicationRegistryTests {
    @Test func payloadKindsAreDisjointAndAboveTheLedgers() {
        let apps = ApplicationRegistry.all
        #expect(Set(apps.map { $0.name }).count == apps.count)
        for (i, a) in apps.enumerated() {
            #expect(a.kinds.lowerBound >= 0x10)
            for b in apps.dropFirst(i + 1) { #expect(!a.kinds.overlaps(b.kinds), "\(a.name) and \(b.name) share kinds") }
        }
    }

    @Test func plantedBugsHaveOneBitEachAndUniqueNames() {
        let named = PlantedBugs.named
        #expect(Set(named.map(\.name)).count == named.count)
        var seen = PlantedBugs()
        for entry in named {
            #expect(entry.bug.rawValue.nonzeroBitCount == 1, "\(entry.name)")
            #expect(!seen.contains(entry.bug), "\(entry.name) reuses a bit")
            seen.insert(entry.bug)
        }
        for app in ApplicationRegistry.all {
            for plant in app.plants {
                #expect(plant.bug.rawValue >= 1 << PlantedBugs.applicationBitsFrom, "\(plant.name) below the applications' bits")
                #expect(!plant.summary.isEmpty)
            }
        }
    }

    @Test func domainTagsAreDistinctAndRegistered() {
        let tags = DomainTag.allCases
        #expect(Set(tags.map(\.rawValue)).count == tags.count)
        #expect(DomainTag(rawValue: "chanlab/orderbook-round/v1") == .orderBookRound)
        #expect(DomainTag(rawValue: "chanlab/nonsense/v1") == nil)
    }
}

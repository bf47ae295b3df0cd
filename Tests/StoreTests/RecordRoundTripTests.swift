import Foundation
import Testing
@testable import Store

@Suite struct RecordRoundTripTests {
    @Test func configurationRoundTrip() throws {
        let store = try ResultsStore.inMemory()
        let id = try store.recordConfiguration(sampleConfiguration())
        var expected = sampleConfiguration()
        expected.id = id
        #expect(try store.configurations() == [expected])
        #expect(try store.configuration(named: "w4a4") == expected)
        #expect(try store.configuration(named: "nope") == nil)
    }

    @Test func sameNameAndDefinitionIsOneRow() throws {
        let store = try ResultsStore.inMemory()
        let first = try store.recordConfiguration(sampleConfiguration(energy: 1))
        let other = try store.recordConfiguration(sampleConfiguration(name: "fp", energy: 9))
        var again = sampleConfiguration(energy: 1)
        again.created = "2030-01-01T00:00:00Z"
        #expect(try store.recordConfiguration(again) == first)
        #expect(other != first)
        let row = try #require(try store.configuration(named: "w4a4"))
        #expect(row.created == "2025-11-23T11:40:00Z")
        #expect(row.version == 1)
        #expect(try store.configurations().count == 2)
    }

    /// Issue "Trust", item 2: a second session reusing a name on another model used to
    /// rewrite the row, so every earlier run reported the new model's parameters.
    @Test func changedDefinitionIsANewVersionAndOldRunsKeepTheirs() throws {
        let store = try ResultsStore.inMemory()
        var small = sampleConfiguration()
        small.params = 3_950
        small.definition = "net = conv 4 k3 | dense 10 input=1x28x28; conv1=w2a32 dense1=w2a32"
        let a = try store.recordConfiguration(small)
        let runA = try store.beginRun(sampleRun(configurationID: a))
        var big = small
        big.params = 11_926
        big.definition = "net = conv 12 k3 | dense 10 input=1x28x28; conv1=w2a32 dense1=w2a32"
        let b = try store.recordConfiguration(big)
        #expect(b != a)
        #expect(try store.configurationVersions(named: "w4a4").map(\.version) == [1, 2])
        #expect(try store.configuration(named: "w4a4")?.params == 11_926)
        let joined = try store.query("""
            SELECT c.params, c.version FROM runs r JOIN configurations c ON c.id = r.configuration_id WHERE r.id = \(runA)
            """).textRows
        #expect(joined == [["3950", "1"]])
    }

    @Test func aFinishedRunIsNotFinishedAgain() throws {
        let store = try ResultsStore.inMemory()
        let id = try store.beginRun(sampleRun(configurationID: try store.recordConfiguration(sampleConfiguration())))
        try store.finishRun(id: id, status: .done, testAcc: 0.75)
        #expect(storeErrorMessage { try store.finishRun(id: id, status: .diverged, testAcc: 0.25) }
            == "in-memory database: finishRun: run \(id) is already done; a recorded result is not rewritten")
        #expect(try store.run(id: id)?.testAcc == 0.75)
    }

    @Test func configurationRowsRefuseUpdates() throws {
        let store = try ResultsStore.inMemory()
        try store.recordConfiguration(sampleConfiguration())
        let message = storeErrorMessage {
            _ = try store.write("test") { db in try db.execute(sql: "UPDATE configurations SET params = 1") }
        }
        #expect(message.contains("configuration rows are immutable"), "\(message)")
        #expect(try store.configurations()[0].params == 421_642)
    }

    @Test func runRoundTripThroughBeginAndFinish() throws {
        let store = try ResultsStore.inMemory()
        let configuration = try store.recordConfiguration(sampleConfiguration())
        var begun = sampleRun(configurationID: configuration, kind: .final)
        begun.status = .done  // beginRun always starts as running
        let id = try store.beginRun(begun)
        var expected = sampleRun(configurationID: configuration, kind: .final)
        expected.id = id
        #expect(try store.run(id: id) == expected)

        try store.finishRun(id: id, status: .diverged, divergedEpoch: 3, testAcc: 0.8125, testLoss: 0.5)
        let finished = try #require(try store.run(id: id))
        expected.status = .diverged
        expected.divergedEpoch = 3
        expected.testAcc = 0.8125
        expected.testLoss = 0.5
        expected.finished = finished.finished
        #expect(finished == expected)
        #expect(finished.finished?.hasSuffix("Z") == true)
    }

    @Test func runsFilterByKindInIdOrder() throws {
        let store = try ResultsStore.inMemory()
        let configuration = try store.recordConfiguration(sampleConfiguration())
        let a = try store.beginRun(sampleRun(configurationID: configuration, kind: .trial))
        let b = try store.beginRun(sampleRun(configurationID: configuration, kind: .final))
        let c = try store.beginRun(sampleRun(configurationID: configuration, kind: .trial))
        #expect(try store.runs(kind: .trial).map(\.id) == [a, c])
        #expect(try store.runs(kind: .final).map(\.id) == [b])
        #expect(try store.runs(kind: .search).isEmpty)
        #expect(try store.runs().map(\.id) == [a, b, c])
    }

    @Test func epochRoundTripIncludingNaNAndReplace() throws {
        let store = try ResultsStore.inMemory()
        let configuration = try store.recordConfiguration(sampleConfiguration())
        let run = try store.beginRun(sampleRun(configurationID: configuration))
        try store.recordEpoch(sampleEpoch(runID: run, epoch: 2))
        try store.recordEpoch(sampleEpoch(runID: run, epoch: 1))
        // A diverged epoch: NaN losses are stored as NULL and come back as nil.
        var diverged = sampleEpoch(runID: run, epoch: 3)
        diverged.trainLoss = .nan
        diverged.valLoss = nil
        try store.recordEpoch(diverged)
        // Recording epoch 1 again replaces it.
        var redo = sampleEpoch(runID: run, epoch: 1)
        redo.valAcc = 0.3
        try store.recordEpoch(redo)

        diverged.trainLoss = nil
        #expect(try store.epochs(runID: run) == [redo, sampleEpoch(runID: run, epoch: 2), diverged])
        #expect(try store.epochs(runID: run + 1).isEmpty)
    }

    @Test func writesNamingMissingRowsFailClearly() throws {
        let store = try ResultsStore.inMemory()
        #expect(storeErrorMessage { _ = try store.beginRun(sampleRun(configurationID: 7)) }
            == "in-memory database: beginRun: no configuration with id 7")
        #expect(storeErrorMessage { try store.recordEpoch(sampleEpoch(runID: 3, epoch: 1)) }
            == "in-memory database: recordEpoch: no run with id 3")
        #expect(storeErrorMessage { try store.finishRun(id: 5, status: .done) }
            == "in-memory database: finishRun: no run with id 5")
        #expect(storeErrorMessage { try store.finishRun(id: 5, status: .running) }
            == "in-memory database: finishRun: a finished run needs a status other than running")
    }
}

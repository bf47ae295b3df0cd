import Testing
@testable import Store

/// Exact text of every rendering on a tiny database: one configuration, one run,
/// two epochs with values exact in binary (so their decimal text is unambiguous).
@Suite struct ExportTests {
    private func tinyStore() throws -> ResultsStore {
        let store = try ResultsStore.inMemory()
        let configuration = try store.recordConfiguration(sampleConfiguration())
        let run = try store.beginRun(sampleRun(configurationID: configuration))
        try store.recordEpoch(EpochRecord(runID: run, epoch: 1, trainLoss: 1.5, trainAcc: 0.5, valLoss: 1.25,
                                          valAcc: 0.625, seconds: 2.5, imagesPerSecond: 2400, cpuSeconds: 1.5))
        try store.recordEpoch(EpochRecord(runID: run, epoch: 2, trainLoss: 0.75, trainAcc: 0.75, valLoss: nil,
                                          valAcc: 0.875, seconds: 2, imagesPerSecond: 3000))
        return store
    }

    @Test func epochsTableAsCSV() throws {
        #expect(try tinyStore().exportCSV(table: "epochs") == """
            run_id,epoch,train_loss,train_acc,val_loss,val_acc,seconds,images_per_second,cpu_seconds
            1,1,1.5,0.5,1.25,0.625,2.5,2400.0,1.5
            1,2,0.75,0.75,,0.875,2.0,3000.0,

            """)
    }

    @Test func epochsTableAsJSON() throws {
        #expect(try tinyStore().exportJSON(table: "epochs") == """
            [
              {"run_id": 1, "epoch": 1, "train_loss": 1.5, "train_acc": 0.5, "val_loss": 1.25, \
            "val_acc": 0.625, "seconds": 2.5, "images_per_second": 2400.0, "cpu_seconds": 1.5},
              {"run_id": 1, "epoch": 2, "train_loss": 0.75, "train_acc": 0.75, "val_loss": null, \
            "val_acc": 0.875, "seconds": 2.0, "images_per_second": 3000.0, "cpu_seconds": null}
            ]

            """)
    }

    @Test func configurationsTableAsCSV() throws {
        #expect(try tinyStore().exportCSV(table: "configurations") == """
            id,name,version,model,definition,spec,precision,params,weight_bits,macs,bops,energy_pj,created
            1,w4a4,1,fmnist2,conv1=w4a4 conv2=w4a4 dense1=w4a4 dense2=w32a32,conv1=w4a4 conv2=w4a4 dense1=w4a4 dense2=w32a32,\
            w4a4,421642,1709344,10817920,173086720,12.5,2025-11-23T11:40:00Z

            """)
    }

    @Test func quotingInCSVAndEscapingInJSON() throws {
        let store = try tinyStore()
        let sql = "SELECT id, settings, session, finished, 'a\nb' AS note FROM runs"
        #expect(try store.exportCSV(query: sql) == """
            id,settings,session,finished,note
            1,"{""batch"":64,""epochs"":3,""lr"":0.05}",sessions/demo.qlab,,"a
            b"

            """)
        #expect(try store.exportJSON(query: sql) == """
            [
              {"id": 1, "settings": "{\\"batch\\":64,\\"epochs\\":3,\\"lr\\":0.05}", \
            "session": "sessions/demo.qlab", "finished": null, "note": "a\\nb"}
            ]

            """)
    }

    @Test func emptyResults() throws {
        let store = try tinyStore()
        let sql = "SELECT id, name FROM configurations WHERE 0"
        #expect(try store.exportCSV(query: sql) == "id,name\n")
        #expect(try store.exportJSON(query: sql) == "[]\n")
        #expect(try store.query(sql).renderTable() == "id  name\n--  ----")
    }

    @Test func renderTableAlignsNumbersRightAndShowsNULL() throws {
        let table = try tinyStore().query("""
            SELECT c.name, r.kind, e.epoch, e.val_acc, e.val_loss
            FROM epochs e JOIN runs r ON r.id = e.run_id JOIN configurations c ON c.id = r.configuration_id
            ORDER BY e.epoch
            """).renderTable()
        #expect(table == """
            name  kind   epoch  val_acc  val_loss
            ----  -----  -----  -------  --------
            w4a4  trial      1    0.625      1.25
            w4a4  trial      2    0.875      NULL
            """)
    }

    @Test func renderTableEscapesAndEmptyColumns() {
        let result = QueryResult(columns: ["note", "n"], rows: [[.text("a\tb\nc"), .null]])
        #expect(result.renderTable() == """
            note     n
            -------  ----
            a\\tb\\nc  NULL
            """)
        #expect(QueryResult(columns: [], rows: []).renderTable() == "")
    }

    /// Padding counts terminal columns: 量化网络 is 8 wide (it was padded as 4 Characters).
    @Test func renderTableLinesUpWideCharacters() {
        let result = QueryResult(columns: ["name", "n"], rows: [[.text("量化网络"), .integer(1)], [.text("fp"), .integer(22)]])
        #expect(result.renderTable() == """
            name       n
            --------  --
            量化网络   1
            fp        22
            """)
    }

    @Test func unknownTableIsNamed() throws {
        #expect(storeErrorMessage { _ = try tinyStore().exportCSV(table: "players") }
            == "export: no table named players (tables: configurations, runs, epochs)")
    }
}

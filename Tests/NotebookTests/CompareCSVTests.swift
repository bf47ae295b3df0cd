import Testing
@testable import Notebook

/// `compare format=csv` is for programs: plain numbers at full precision, a mean and its sd
/// in two columns, empty fields for what is missing. (It wrote the text table's cells:
/// "1,106,432" and "0.6250 ± 0.1768" in one field.)
@Suite struct CompareCSVTests {
    @Test func csvHasPlainNumbersAndSplitsMeanAndSD() {
        let rows = [
            // Two seeds: mean 0.625, sample sd √((0.125² + 0.125²) / 1) = √0.03125 = 0.1767766952966369 (Python repr).
            CompareCommand.Row(name: "w4a4", precision: "w8a8, w4a4", trial: [0.5, 0.75], final: [0.8952380952380953],
                               weightBits: 1_106_432, bops: 1_106_432, trainedBOPs: 553_216.5, energyPJ: 1_500_000,
                               imagesPerSecond: 1234.5678, trainingMilliseconds: 0.0123),
            CompareCommand.Row(name: "bin", precision: "w1a1", trial: [], final: [],
                               weightBits: 4096, bops: 17, trainedBOPs: nil, energyPJ: 742,
                               imagesPerSecond: nil, trainingMilliseconds: nil),
        ]
        #expect(CompareCommand.csv(rows).csv() == """
            config,precision,trial_val_acc,trial_val_acc_sd,final_test_acc,final_test_acc_sd,weights_kib,bops,trained_bops,energy_uj,img_per_s,train_ms_per_img
            w4a4,"w8a8, w4a4",0.625,0.1767766952966369,0.8952380952380953,,135.0625,1106432,553216.5,1.5,1234.5678,0.0123
            bin,w1a1,,,,,0.5,17,,0.000742,,

            """)
        // The text table keeps the formats of every table.
        #expect(CompareCommand.table(rows).render() == """
            config  precision     trial val acc  final test acc  weights KiB       BOPs  trained BOPs  energy µJ  img/s  train ms/img
            ------  ----------  ---------------  --------------  -----------  ---------  ------------  ---------  -----  ------------
            w4a4    w8a8, w4a4  0.6250 ± 0.1768          0.8952        135.1  1,106,432       553,217      1.500   1235         0.012
            bin     w1a1                                                0.50         17                 0.000742
            """)
    }

    /// A value that is not a number is `nan` in the CSV, never printf's `-nan`.
    @Test func notFiniteIsAWord() {
        let row = CompareCommand.Row(name: "d", precision: "w2a2", trial: [-.nan], final: [.infinity], weightBits: 8192, bops: 1,
                                     trainedBOPs: nil, energyPJ: 0, imagesPerSecond: nil, trainingMilliseconds: nil)
        #expect(CompareCommand.csv([row]).csv().split(separator: "\n").last == "d,w2a2,nan,,inf,,1,1,,0,,")
    }

    /// `config list csv=` writes the same plain numbers (it wrote the text cells, "32,768").
    /// The float configuration by hand: 4·8 + 8 + 8·3 + 3 = 67 parameters, 67 · 32 bits =
    /// 2144 bits = 0.26171875 KiB, 4·8 + 8·3 = 56 MACs, BOPs 4·8 · 32 · 8 (the input counts at
    /// its 8 bits) + 8·3 · 32 · 32 = 8192 + 24576 = 32768.
    @Test func configListCSVHasPlainNumbers() throws {
        let d = SessionTrustTests.Domain("config-list-csv")
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3",
                     "config add a m w4a4", "config add b m w32a32"] {
            #expect(!d.run(line).hasPrefix("error"), "\(line)")
        }
        let out = d.run("config list csv=c.csv")
        #expect(out.contains("32,768"), "\(out)")
        let text = try String(contentsOfFile: d.dir + "/c.csv", encoding: .utf8)
        #expect(!text.contains("\r"), "LF line ends, as store export and compare write")
        let csv = text.components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(csv.first == "config,precision,params,weights_kib,compression,macs,bops,compute_uj,memory_uj,energy_uj")
        let b = csv.first { $0.hasPrefix("b,") }?.split(separator: ",").map(String.init) ?? []
        #expect(Array(b.prefix(7)) == ["b", "w32a32", "67", "0.26171875", "1", "56", "32768"], "\(csv)")
        #expect(csv.count == 3 && !csv.joined().contains("µ") && !csv.joined().contains("×"), "\(csv)")
    }

    /// `correlate csv=` writes one number per column (it wrote the text table: two columns
    /// both named "p", "< 0.0001", "[0.521, 0.970]" in one cell, "undefined"): each row's
    /// coefficients are the recorded ones (6 decimals there), and an undefined one is empty.
    @Test func correlateCSVHasOneNumberPerColumn() throws {
        let d = SessionTrustTests.Domain("correlate-csv")
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3", "config grid m w=2,3,4,5,6,8",
                     "trial run all epochs=2 batch=16", "trial final all epochs=2 batch=16"] {
            #expect(!d.run(line).hasPrefix("error"), "\(line)")
        }
        guard case .success(let out) = d.notebook.execute("correlate bootstrap=200 csv=r.csv") else {
            Issue.record("correlate failed"); return
        }
        let text = try String(contentsOfFile: d.dir + "/r.csv", encoding: .utf8)
        #expect(!text.contains("\r"), "LF line ends, as store export and compare write")
        let csv = text.components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(csv.first == "epoch,n,pearson_r,pearson_p,spearman_rho,spearman_p,spearman_ci_low,spearman_ci_high,kendall_tau,kendall_p")
        #expect(csv.count == 3, "\(csv)")
        for (i, line) in csv.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(cells.count == 10 && cells[0] == "\(i + 1)" && cells[1] == "6", "\(line)")
            guard cells.count == 10, let recorded = out.results.first(where: { $0.hasPrefix("correlate val_acc epoch \(i + 1) ") }) else {
                Issue.record("no recorded correlate line for epoch \(i + 1) in \(out.results)"); continue
            }
            let words = recorded.split(separator: " ").map(String.init)
            for (method, column) in [("pearson", 2), ("spearman", 4), ("kendall", 8)] {
                guard let at = words.firstIndex(of: method), at + 1 < words.count else { Issue.record("\(method) in \(recorded)"); continue }
                if words[at + 1] == "undefined" {
                    #expect(cells[column] == "" && cells[column + 1] == "", "\(line)")
                } else {
                    let csvValue = try #require(Double(cells[column]), "\(line)"), shown = try #require(Double(words[at + 1]))
                    #expect(abs(csvValue - shown) <= 5e-7 && csvValue >= -1 && csvValue <= 1, "\(method): \(line) vs \(recorded)")
                    #expect(cells[column + 1].isEmpty || Double(cells[column + 1]).map { (0...1).contains($0) } == true, "\(line)")
                }
            }
            // Interval ends are numbers or empty together, low ≤ high.
            let (low, high) = (Double(cells[6]), Double(cells[7]))
            #expect((cells[6].isEmpty && cells[7].isEmpty) || (low != nil && high != nil && low! <= high!), "\(line)")
            #expect(!line.contains("<") && !line.contains("[") && !line.contains("undefined") && !line.contains("—"), "\(line)")
        }
    }
}

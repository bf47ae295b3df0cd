import Foundation
import Testing
@testable import Notebook

/// `quantizer histogram … of=activations` on real data: the values entering a layer's
/// activation quantizer on the first validation images, before and after training.
@Suite(.serialized) struct ActivationHistogramCommandTests {
    func notebook(_ dir: String) -> Notebook {
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        return nb
    }

    func run(_ nb: Notebook, _ line: String) throws -> CommandOutput {
        switch nb.execute(line) {
        case .success(let o): return o
        case .failure(let m): throw QuantlabTestError(message: "\(line): \(m)")
        case .blank: return CommandOutput()
        }
    }

    /// Numbers in a result line, by key: "… clip 3.1 above 0.02 …" → ["clip": 3.1, …].
    func fields(_ line: String) -> [String: String] {
        let w = line.split(separator: " ").map(String.init)
        return Dictionary(zip(w, w.dropFirst()).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func activationsOfTheUsersModel() throws {
        let dir = temporaryDirectory("act-hist")
        write(DataTrustTests.toyCSV(), to: dir + "/toy.csv")
        let nb = notebook(dir)
        for line in ["data load csv toy.csv val=30", "model define m = dense 8 | relu | dense 6 | relu | dense 3",
                     "config add a m w4a4", "config add f m w32a32"] {
            _ = try run(nb, line)
        }
        // Before training: initial weights, the clip is the batch maximum, so nothing is clipped above.
        let initial = try run(nb, "quantizer histogram a of=activations")
        #expect(initial.results.count == 2, "dense1 and dense2; the logits are not quantized: \(initial.results)")
        let r = fields(initial.results[0])
        #expect(initial.results[0].hasPrefix("activations a dense1 a4 values 240 "), "30 images × 8 units: \(initial.results[0])")
        #expect(r["above"] == "0.000000" && r["below"] == "0.000000", "relu output, c = its maximum: \(initial.results[0])")
        #expect(initial.text.contains("m.dense1 activation, initial weights (seed 42), first 30 validation images: 240 activation values, a4"))
        #expect(initial.text.contains("bins centred on the levels") && initial.text.contains("activations 4-bit: 16 levels: 0 ") && initial.text.contains("untrained, so evaluation used the batch maximum as c"))
        #expect(initial.text.contains("clipped: 0.00% of the values above c = " + String(format: "%.4g", Double(r["clip"]!)!)))

        // After training: the frozen trained clip, the one quantizer levels reports.
        _ = try run(nb, "trial final a epochs=2 batch=16")
        let trained = try run(nb, "quantizer histogram a of=activations layer=dense1 images=20 svg=out/act.svg png=out/act.png")
        #expect(trained.results.count == 1 && trained.results[0].hasPrefix("activations a dense1 a4 values 160 "), "\(trained.results)")
        let clip = try #require(Double(fields(trained.results[0])["clip"] ?? ""))
        let levels = try run(nb, "quantizer levels a layer=dense1").text
        #expect(levels.contains("clip c = " + String(format: "%.4g", clip)), "\(levels)\n\(trained.results[0])")
        #expect(trained.text.contains("m.dense1 activation, trained weights (trial final), first 20 validation images"))
        let svg = contents(dir + "/out/act.svg")
        let spikes = svg.components(separatedBy: "class=\"bar after\"").count - 1
        #expect(spikes >= 1 && spikes <= 16, "at most one spike per level of a4: \(spikes)")
        #expect(svg.contains("c = " + String(format: "%.4g", clip)) && svg.contains("entering the quantizer"))
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/act.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))

        // The same run twice gives the same histogram (deterministic, training untouched).
        #expect(try run(nb, "quantizer histogram a of=activations layer=dense1 images=20").results == trained.results)

        // A precision on a model's layer; a float configuration has nothing to show.
        let w8a2 = try run(nb, "quantizer histogram w8a2 of=activations model=m layer=dense2")
        #expect(w8a2.results.count == 1 && w8a2.results[0].hasPrefix("activations m dense2 a2 values 180 "), "\(w8a2.results)")
        #expect(throws: QuantlabTestError.self) { try run(nb, "quantizer histogram f of=activations") }
        if case .failure(let m) = nb.execute("quantizer histogram f of=activations") {
            #expect(m.contains("f quantizes no activation (a32 activations and the logits layer's are not quantized)"), "\(m)")
        }
        if case .failure(let m) = nb.execute("quantizer histogram a of=activations layer=dense3") {
            #expect(m.contains("a quantizes no activation of dense3"), "\(m)")
        }
        if case .failure(let m) = nb.execute("quantizer histogram a images=5") {
            #expect(m.contains("images= applies to of=activations"), "\(m)")
        }
    }
}

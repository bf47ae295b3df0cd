import Foundation
import Testing
@testable import Notebook
import Store
import Analysis

/// A notebook with the domain commands in its own folder (its own quantlab.db),
/// on a tiny CSV dataset: 4 features, 3 classes, 120 rows.
private final class Bench {
    let dir: String
    let notebook: Notebook

    init(dir: String? = nil, load: Bool = true) {
        self.dir = dir ?? temporaryDirectory("trust")
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<120 {
            let c = i % 3
            csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n"
        }
        try! csv.write(toFile: self.dir + "/toy.csv", atomically: true, encoding: .utf8)
        notebook = Notebook(workspace: Workspace(workingDirectory: self.dir), domainCommands: true, output: { _ in })
        notebook.workspace.threads = 1
        if load { ok("data load csv toy.csv label=label") }
    }

    /// Runs a line that must succeed and returns its key results.
    @discardableResult
    func ok(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        switch notebook.execute(line) {
        case .success(let out): return out.results
        case .failure(let message):
            Issue.record("\(line) → \(message)", sourceLocation: sourceLocation); return []
        case .blank: return []
        }
    }

    /// Runs a line that must fail and returns its message.
    func fails(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        switch notebook.execute(line) {
        case .failure(let message): return message
        default: Issue.record("\(line) succeeded", sourceLocation: sourceLocation); return ""
        }
    }

}

@Suite(.serialized) struct TrustTests {
    // MARK: Item 2: a name keeps what it trained

    /// Session A trains w2a32 and w4a32 on a small model; session B, same store, the
    /// same names on a bigger one. A's runs must keep A's parameter count.
    @Test func reusedNamesInASecondSessionDoNotRelabelTheFirst() throws {
        let a = Bench()
        a.ok("model define net = dense 4 | relu | dense 3")
        a.ok("config grid net w=2,4")
        a.ok("trial run all epochs=1")
        let b = Bench(dir: a.dir)
        b.ok("model define net = dense 16 | relu | dense 3")
        b.ok("config grid net w=2,4")
        b.ok("trial run all epochs=1")
        // dense 4→4 + 4→3 = 20 + 15 = 35 parameters; dense 4→16 + 16→3 = 80 + 51 = 131.
        let rows = try ResultsStoreProbe(a.dir).rows("""
            SELECT r.id, c.name, c.version, c.params FROM runs r JOIN configurations c ON c.id = r.configuration_id ORDER BY r.id
            """)
        #expect(rows == [["1", "w2a32", "1", "35"], ["2", "w4a32", "1", "35"],
                         ["3", "w2a32", "2", "131"], ["4", "w4a32", "2", "131"]])
    }

    @Test func configAddOfAnExistingNameWithAnotherDefinitionIsRefused() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add c m w4a4")
        let message = s.fails("config add c m w2a2")
        #expect(message == """
            error: a configuration named 'c' exists already with another definition: m dense1=w4a4 dense2=w4a4 \
            (model m = dense 8 | relu | dense 3, input 4); remove it first (config remove c), rename it \
            (config rename c NEWNAME), or choose another name
            """)
        // The same definition again is not a change: accepted, nothing added.
        #expect(s.ok("config add c m w4a4") == ["config c m dense1=w4a4 dense2=w4a4"])
        s.ok("config rename c old")
        s.ok("config add c m w2a2")
        #expect(s.ok("config remove old c") == ["configs 0"])
    }

    /// Removing a configuration and adding another under its name must not pair the
    /// new definition with the old one's results (correlate, pareto, trial show).
    @Test func aNameAddedAgainStartsWithoutTheOldResults() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add c m w8a8")
        s.ok("trial run c epochs=1")
        s.ok("config remove c")
        s.ok("config add c m w2a2")
        guard case .success(let out) = s.notebook.execute("trial show c") else { Issue.record("trial show c"); return }
        #expect(out.text == "no results in this session yet; try: trial run all epochs=2")
    }

    /// `all` means every configuration: a configuration named all could never be named alone.
    @Test func configurationNamesAreWords() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        #expect(s.fails("config add all m w4a4")
            == "error: 'all' cannot name a configuration: use letters, digits, '_', '-' or '.', and not 'all' (which means every configuration)")
        #expect(s.fails("config grid m w=4 prefix=a/b").hasPrefix("error: 'a/bw4a32' cannot name a configuration"))
        s.ok("config add c2-w4a4.v1 m w4a4")
    }

    /// Text of a command that must succeed.
    private func text(_ s: Bench, _ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard case .success(let out) = s.notebook.execute(line) else { Issue.record("\(line) failed", sourceLocation: sourceLocation); return "" }
        return out.text
    }

    /// Trials on the sample and finals on the training split of one dataset are the normal
    /// pairing, which correlate accepts; trial show still ended every such session with
    /// "runs on different data:" (found by the twelfth-pass audit). Another sample is a mix.
    @Test func trialShowNotesDifferentDataOnlyWhenAnalysesWouldRefuse() {
        let s = Bench()
        s.ok("data sample 30")
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add a m w4a4")
        s.ok("config add b m w8a8")
        s.ok("trial run all epochs=1 batch=16")
        s.ok("trial final all epochs=1 batch=16")
        s.ok("correlate")
        let shown = text(s, "trial show")
        #expect(shown.contains("b       final      1") && !shown.contains("runs on different data"), "\(shown)")
        s.ok("data sample 40")
        s.ok("trial run a epochs=1 batch=16")
        let toy = "csv 38e8881332cb4afb, validation 9 (seed 42)"
        #expect(text(s, "trial show").hasSuffix("""
            runs on different data:
              \(toy), trained on sample 30 (seed 42): a trial 1, b trial
              \(toy), trained on sample 40 (seed 42): a trial 2 (latest)
              \(toy), trained on the training split (87): a final, b final
            """))
    }

    /// `config add c m w8a8 schedule=cpt:3-8` over `precision m first=w8a8 last=w8a8` noted
    /// "w8a8 replaces the precision model m gives dense1=w8a8 dense2=w8a8; to keep it: config
    /// add c-kept m w8a8 dense1=w8a8 dense2=w8a8", the same configuration: CPT's 8-bit
    /// gradients were compared as a replaced precision (found by the twelfth-pass audit).
    @Test func cptOverTheModelsOwnPrecisionNotesNothing() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 8 | relu | dense 3")
        s.ok("precision m first=w8a8 last=w8a8")
        #expect(!text(s, "config add c m w8a8 schedule=cpt:3-8").contains("note:"))
        #expect(text(s, "config add d m w4a4 schedule=cpt:3-8").hasSuffix(
            "note: w4a4 replaces the precision model m gives dense1=w8a8 dense3=w8a8; to keep it: config add d-kept m w4a4 dense1=w8a8 dense3=w8a8"))
    }

    /// plot scatter with one configuration trained to the end said "correlation needs at
    /// least 2 configurations", and so did plot panels (its scatter): name the command.
    @Test func tooFewPairsNamesTheCommand() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add a m w4a4")
        s.ok("trial run a epochs=1 batch=16")
        s.ok("trial final a epochs=1 batch=16")
        let tail = " needs at least 2 configurations with both a trial run and a final run; found 1 (try: trial run all, then trial final all)"
        #expect(s.fails("plot scatter") == "error: plot scatter" + tail)
        #expect(s.fails("correlate") == "error: correlate" + tail)
    }

    /// Two configurations whose final accuracies tie (both diverged to 0.1000 in the audit):
    /// every τ is undefined and the note read "kendall τ-b by — (exact without ties…)".
    @Test func kendallNoteWhenNoTestRan() {
        let per = CorrelationMethod.allCases.map {
            EpochCorrelations(early: [[0.2], [0.1]], final: [0.1, 0.1], method: $0, epochs: [1], resamples: 0)
        }
        #expect(AnalysisCommands.testNote(per, n: 2, resamples: 0)
            == "p-values: pearson and spearman by Student's t (n − 2 df); kendall τ-b: none (undefined at every epoch); two-sided\n")
        let defined = CorrelationMethod.allCases.map {
            EpochCorrelations(early: [[0.2], [0.1], [0.3]], final: [0.2, 0.1, 0.3], method: $0, epochs: [1], resamples: 0)
        }
        #expect(AnalysisCommands.testNote(defined, n: 3, resamples: 0)
            == "p-values: pearson and spearman by Student's t (n − 2 df); kendall τ-b by exact permutation (exact without ties when n ≤ 33); two-sided\n")
    }

    @Test func configRenameMovesResults() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add c m w8a8")
        s.ok("trial run c epochs=1")
        #expect(s.ok("config rename c d") == ["config rename c d"])
        #expect(s.fails("config show c").hasPrefix("error: no configuration named 'c'"))
        s.ok("config add e m w4a4")
        #expect(s.fails("config rename d e").hasPrefix("error: a configuration named 'e' exists already"))
        #expect(s.fails("config rename d all").hasPrefix("error: config rename: NEW must be"))
        guard case .success(let out) = s.notebook.execute("trial show d") else { Issue.record("trial show d"); return }
        #expect(out.text.split(separator: "\n").contains { $0.hasPrefix("d ") && $0.contains("trial") }, "\(out.text)")
    }

    /// `data load` of other data or `data sample` again between runs: correlate, compare,
    /// pareto and the plots mixed the results silently (found by the eleventh-pass audit:
    /// trials on toy.csv correlated with finals on toy2.csv, n = 3, no word of it).
    @Test func analysesRefuseResultsOfDifferentData() {
        let s = Bench()
        var other = "f1,f2,f3,f4,label\n"
        for i in 0..<120 { let c = i % 3; other += "\(c == 0 ? 1 : 0).\(i % 5),\(c == 1 ? 1 : 0).\(i % 7),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 4),k\(c)\n" }
        try! other.write(toFile: s.dir + "/toy2.csv", atomically: true, encoding: .utf8)
        s.ok("model define m = dense 8 | relu | dense 3")
        for c in ["a m w4a4", "b m w8a8", "c m w2a2"] { s.ok("config add " + c) }
        s.ok("trial run all epochs=1 batch=16")
        s.ok("search halving all eta=2 min=1 max=2 batch=16")
        s.ok("data load csv toy2.csv label=label")
        s.ok("trial final all epochs=1 batch=16")
        let toy = "csv 38e8881332cb4afb, validation 9 (seed 42)", toy2 = "csv 755242c6558ab6d0, validation 9 (seed 42)"
        let pairing = "would pair trial results on \(toy) with final results on \(toy2); run both on one dataset"
        #expect(s.fails("correlate") == "error: correlate " + pairing + " (trial run …, trial final …), or remove the configurations you do not want (config remove …)")
        #expect(s.fails("compare").hasPrefix("error: compare " + pairing))
        #expect(s.fails("plot scatter").hasPrefix("error: plot scatter " + pairing))
        // Trials again on the new data, but one of them on another sample.
        s.ok("trial run a b epochs=1 batch=16")
        s.ok("data sample 30")
        s.ok("trial run c epochs=1 batch=16")
        let mixed = "would mix trial results of different data: a, b on \(toy2), trained on the training split (87); "
            + "c on \(toy2), trained on sample 30 (seed 42); run them again on the same data (trial run a b), or remove those you do not want (config remove a b)"
        #expect(s.fails("correlate") == "error: correlate " + mixed)
        #expect(s.fails("plot curves") == "error: plot curves " + mixed)
        #expect(s.fails("pareto accuracy=trial") == "error: pareto " + mixed)
        s.ok("pareto")   // the finals are all of toy2's training split
        guard case .success(let shown) = s.notebook.execute("trial show a c") else { Issue.record("trial show"); return }
        #expect(shown.text.hasSuffix("""
            runs on different data:
              \(toy), trained on the training split (87): a trial 1, c trial 1
              \(toy2), trained on the training split (87): a trial 2 (latest), a final, c final
              \(toy2), trained on sample 30 (seed 42): c trial 2 (latest)
            """), "\(shown.text)")
        // The suggestion names the runs not on the current data: following it makes the set agree.
        s.ok("trial run a b epochs=1 batch=16")
        #expect(s.ok("correlate").contains { $0.hasPrefix("correlate val_acc epoch 1 ") })
        s.ok("config remove c")
        #expect(s.ok("correlate").contains { $0.hasPrefix("correlate val_acc epoch 1 ") })
        #expect(s.fails("search compare") == "error: search compare would compare the search 'search halving all eta=2 min=1 max=2 batch=16' on \(toy) "
            + "with a ground truth on \(toy2); compare on one dataset (search again after data load, or train the ground truth on the search's data)")
    }

    /// `trial run all seeds=3`, then `trial run all` (one seed): compare still showed the
    /// seeds' mean ± sd as the trial accuracy; rename left the spread behind and remove kept it
    /// for the next configuration of that name (found by the eleventh-pass audit).
    @Test func seedSpreadsStayWithTheRunTheyCameFrom() {
        let s = Bench()
        func trialCell(_ name: String) -> String {
            let row = s.ok("compare").first { $0.hasPrefix("compare row \(name) ") } ?? ""
            return String(row.components(separatedBy: " trial ").last?.components(separatedBy: " final ").first ?? "")
        }
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add a m w4a4")
        s.ok("trial run a epochs=1 batch=16 seeds=2")
        s.ok("config rename a z")
        #expect(trialCell("z").contains(" ± "), "\(trialCell("z"))")
        s.ok("trial run z epochs=2 batch=16")
        #expect(!trialCell("z").contains("±") && !trialCell("z").isEmpty, "\(trialCell("z"))")
        s.ok("trial run z epochs=1 batch=16 seeds=2")
        s.ok("config remove z")
        s.ok("config add z m w2a2")
        s.ok("trial run z epochs=1 batch=16")
        #expect(!trialCell("z").contains("±") && !trialCell("z").isEmpty, "\(trialCell("z"))")
    }

    /// A dual-precision network's low mode (`NAME@w2a2`) is a point of its own in the
    /// analyses; `config rename` left its results under the old name, so the renamed
    /// network's low mode showed none and `config remove` kept them for a later namesake.
    @Test func lowModeResultsFollowRenameAndRemove() {
        let s = Bench()
        func rows() -> [String] { s.ok("compare").filter { $0.hasPrefix("compare row ") } }
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add d m w8a8 dual=w2a2")
        s.ok("trial run d epochs=1 batch=16")
        let before = rows().first { $0.hasPrefix("compare row d@w2a2 ") }
        #expect(before != nil, "\(rows())")
        s.ok("config rename d e")
        let after = rows()
        #expect(!after.contains { $0.hasPrefix("compare row d@") }, "\(after)")
        let renamed = after.first { $0.hasPrefix("compare row e@w2a2 ") }
        #expect(renamed != nil && renamed!.dropFirst("compare row e".count) == before!.dropFirst("compare row d".count),
                "\(String(describing: before)) → \(String(describing: renamed))")
        s.ok("config remove e")
        s.ok("config add e m w8a8 dual=w2a2")
        #expect(!rows().contains { $0.hasPrefix("compare row e@w2a2 ") }, "\(rows())")
    }

    /// `search compare` counted the ground truth's trial images on the current sample: after
    /// `data sample 30`, trials that had trained on the 87-image split counted 30 images an
    /// epoch, so every search's compute fraction was about three times too large.
    @Test func searchCompareCountsTheImagesTheTrialsTrainedOn() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        for c in ["a m w4a4", "b m w8a8", "c m w2a2"] { s.ok("config add " + c) }
        s.ok("trial run all epochs=1 batch=16")
        s.ok("trial final all epochs=1 batch=16")
        s.ok("data sample 30")
        s.ok("search halving all eta=2 min=1 max=2 batch=16")
        let ground = s.ok("search compare").first { $0.hasPrefix("compare ground ") } ?? ""
        #expect(ground.hasSuffix(" trial_images 261"), "\(ground)")   // 3 configurations × 1 epoch × 87 images
    }

    @Test func modelDefineOfANameConfigurationsUseIsRefused() {
        let s = Bench()
        s.ok("model define net = dense 8 | relu | dense 3")
        s.ok("config grid net w=2,4")
        #expect(s.fails("model define net = dense 16 | relu | dense 3") == """
            error: model net is used by configurations w2a32, w4a32 (defined as dense 8 | relu | dense 3, input 4); \
            redefining it would change what they mean: choose another name, or remove them first (config remove w2a32 w4a32)
            """)
        s.ok("model define net = dense 8 | relu | dense 3")      // the same definition is fine
        s.ok("config remove all")
        s.ok("model define net = dense 16 | relu | dense 3")
    }

    // MARK: Item 16: the schedule spans what the run trains

    /// A search's rungs continue one schedule over max= epochs; a trial's spans its epochs.
    /// The stored settings say which span each run trained with.
    @Test func storedRunsRecordTheScheduleSpan() throws {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config grid m w=2,4")
        s.ok("config add e m w8a8 epochs=2")
        s.ok("trial run all epochs=1 schedule=cosine")
        s.ok("search halving w2a32 w4a32 eta=2 max=4 schedule=cosine")   // one rung of 1 epoch: keeps 1 of 2
        let rows = try ResultsStoreProbe(s.dir).rows("""
            SELECT r.kind, c.name, substr(r.settings, instr(r.settings, 'schedule_epochs')) FROM runs r
            JOIN configurations c ON c.id = r.configuration_id ORDER BY r.id
            """)
        #expect(rows == [["trial", "w2a32", "schedule_epochs=1"], ["trial", "w4a32", "schedule_epochs=1"],
                         ["trial", "e", "schedule_epochs=2"],
                         ["search", "w2a32", "schedule_epochs=4"], ["search", "w4a32", "schedule_epochs=4"]], "\(rows)")
    }

    // MARK: Item 4: a model that does not fit the data

    @Test func inputShapeMismatchIsAnErrorBeforeTraining() throws {
        let s = Bench()
        s.ok("model define m = conv 2 k3 | relu | dense 3 input=3x4x4")
        s.ok("config add c m w8a8")
        let expected = "error: configuration c: model m takes 3×4×4 inputs but the data has 4 samples; define the model for 4 (or leave out input=)"
        #expect(s.fails("trial run c epochs=1") == expected)
        #expect(s.fails("trial final c epochs=1") == expected)
        #expect(s.fails("search halving all max=2") == expected)
        #expect(try ResultsStoreProbe(s.dir).rows("SELECT count(*) FROM runs") == [["0"]], "nothing stored, nothing trained")
    }

    @Test func outputWidthMismatchIsAnErrorBeforeTraining() {
        let s = Bench(load: false)
        s.ok("model define m = dense 7 input=4")            // defined before the data: no check possible then
        s.ok("data load csv toy.csv label=label")
        s.ok("config add c m w8a8")
        #expect(s.fails("trial run c epochs=1")
            == "error: configuration c: model m ends in 7 outputs but the data has 3 classes: end with dense 3")
    }

    // MARK: Item 5 and the one option parser

    @Test func emptyListsAreUsageErrors() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        #expect(s.fails("config random m w=,").hasPrefix(
            "error: config random: option 'w' expects a comma-separated list of one or more values, e.g. w=2,4,8, found ','"))
        #expect(s.fails("config random m a=,4").contains("option 'a' expects a comma-separated list"))
        #expect(s.fails("config grid m w=2,,4").contains("found '2,,4'"))
        #expect(s.fails("config grid m w=4 layers=dense1,").contains("option 'layers' expects a comma-separated list"))
        #expect(s.fails("config random m a=").contains("option 'a' has no value"))  // the tokenizer's word
    }

    @Test func yesNoIsTheSameEverywhere() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        #expect(s.ok("config add c m w8a8 augment=yes perchannel=on") == ["config c m dense1=w8a8 dense2=w8a8 perchannel=true augment=true"])
        s.ok("trial run all epochs=1 augment=no")
        #expect(s.fails("config add d m w8a8 augment=maybe").contains("option 'augment' expects yes or no, found 'maybe'"))
        #expect(s.fails("config add d m w8a8 pact=maybe").contains("option 'pact' expects yes or no, found 'maybe'"))
        #expect(s.fails("config grid m w=4 binary=both").contains("option 'binary' expects xnor or connect, found 'both'"))
    }

    /// Settings give the option parser's errors wherever they are typed.
    @Test func settingsAreParsedOnceForEveryCommand() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        #expect(s.fails("config add c m w8a8 epochs=0").hasPrefix("error: config add: option 'epochs' expects an integer from 1 to 1000, found '0'"))
        #expect(s.fails("trial set epochs=0").hasPrefix("error: trial set: option 'epochs' expects an integer from 1 to 1000, found '0'"))
        #expect(s.fails("trial set lr=0").hasPrefix("error: trial set: option 'lr' expects a number > 0, found '0'"))
        #expect(s.fails("trial set momentum=1").hasPrefix("error: trial set: option 'momentum' expects a number in [0, 1), found '1'"))
        #expect(s.fails("trial set wd=-1").hasPrefix("error: trial set: option 'wd' expects a number ≥ 0, found '-1'"))
        #expect(s.fails("trial set schedule=linear").hasPrefix("error: trial set: option 'schedule' expects constant, cosine or step, found 'linear'"))
        #expect(s.fails("trial set optimizer=rmsprop").hasPrefix("error: trial set: option 'optimizer' expects adam or sgd, found 'rmsprop'"))
        #expect(s.ok("trial set augment=on lr=0.01") == ["settings epochs=3 batch=64 optimizer=adam lr=0.01 momentum=0.9 wd=0.0 schedule=constant augment=true"])
    }

    // MARK: Items 14/15: options refused with what is accepted

    @Test func searchOptionsOutOfRangeAreRefused() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config grid m w=2,4,8")
        #expect(s.fails("search halving all budget=0").hasPrefix(
            "error: search halving: option 'budget' expects an integer ≥ 3, found '0'"))
        #expect(s.fails("search halving all min=2 budget=5").contains("option 'budget' expects an integer ≥ 6, found '5'"))
        let limit = s.fails("search halving all objective=limit limit=-1")
        // dense 4→8 and 8→3 at 2 bits: 56 weights × 2 bits + 11 float biases × 32 bits + 2 float scales × 32 bits
        // = 112 + 352 + 64 = 528 bits = 0.06445 KiB.
        #expect(limit.hasPrefix("""
            error: search halving: option 'limit' expects a number ≥ 0.06445 (KiB of weights, cost=memory): \
            limit=-1 excludes every configuration, the cheapest costs 0.06445
            """), "\(limit)")
        #expect(s.fails("search halving all cost=latency").hasPrefix(
            "error: search halving: option 'cost' expects memory, bops, energy or time, found 'latency'"))
    }

    @Test func paretoValidatesOptionsFirst() {
        let s = Bench()
        #expect(s.fails("pareto cost=latency").hasPrefix("error: pareto: option 'cost' expects memory, bops, energy or time, found 'latency'"))
        #expect(s.fails("pareto accuracy=best").hasPrefix("error: pareto: option 'accuracy' expects final or trial, found 'best'"))
    }

    @Test func strideZeroSaysStrideMustBePositive() {
        let s = Bench()
        #expect(s.fails("model define m = conv 16 k3 s0 | dense 3")
            == "error: layer 1 'conv 16 k3 s0': stride must be ≥ 1, found 's0'")
        #expect(s.fails("model define m = conv 16 k0 | dense 3")
            == "error: layer 1 'conv 16 k0': kernel size must be ≥ 1, found 'k0'")
    }

    @Test func removeNamesEveryUnknownConfiguration() {
        let s = Bench()
        s.ok("model define m = dense 8 | relu | dense 3")
        s.ok("config add a m w8a8")
        s.ok("config add g m w4a4")
        #expect(s.fails("config remove a g i j") == "error: no configurations named 'i', 'j' (configurations: a, g)")
    }
}

/// Reads the quantlab.db of a folder directly.
private struct ResultsStoreProbe {
    let path: String
    init(_ dir: String) { path = dir + "/quantlab.db" }
    func rows(_ sql: String) throws -> [[String]] {
        let store = try ResultsStore(path: path)
        return try store.query(sql).textRows.map { $0.map { $0 ?? "NULL" } }
    }
}

import Foundation

/// A search's budget as given: `budget=EPOCHS`, `budget=SECONDSs` (measured CPU
/// seconds of training, e.g. `budget=300s`) or, where the command takes it,
/// `images=N` (converted to epochs of the search data).
struct SearchBudget {
    var epochs: Int?
    var time: TimeBudget?

    /// The synopsis text of the option.
    static let synopsis = "budget=EPOCHS|SECONDSs"

    /// Parses budget= (an epoch budget must be at least `minimumEpochs`) and, when
    /// `imagesPerEpoch` is given, images=.
    static func parse(_ inv: Invocation, _ ws: Workspace, minimumEpochs: Int = 1, imagesPerEpoch: Int? = nil) throws -> SearchBudget {
        var budget = SearchBudget()
        if let text = inv.string("budget"), text.hasSuffix("s") {
            guard let seconds = Double(text.dropLast()), seconds.isFinite, seconds > 0 else {
                throw inv.usageError("option 'budget' expects a number of epochs, or of CPU seconds followed by s (budget=300s), found '\(text)'")
            }
            budget.time = TimeBudget(seconds: seconds, replay: ws.replayRungCap)
        } else {
            budget.epochs = try inv.int("budget", in: minimumEpochs...Int.max)
        }
        if let imagesPerEpoch, let images = try inv.int("images", in: 1...Int.max) {
            guard inv.string("budget") == nil else { throw inv.usageError("give budget= (epochs) or images=, not both") }
            budget.epochs = max(1, images / max(1, imagesPerEpoch))
        }
        return budget
    }
}

/// A budget in measured CPU seconds of training (user + sys of the training threads,
/// as the store's `epochs.cpu_seconds`): a search launches a rung only while the
/// seconds spent plus the rung's estimate (its epochs × the CPU seconds per image
/// measured so far in this search; nothing before the first rung) stay within it.
///
/// Time differs from run to run, so the search leaves a note with the rungs it ran
/// (``RungCap``); replay runs that many rungs and reads no clock (`replay`).
final class TimeBudget {
    let seconds: Double
    /// The rungs the recorded run ran, when replaying one.
    let replayRungs: Int?
    private(set) var rungs = 0

    init(seconds: Double, replay: RungCap?) {
        self.seconds = seconds
        replayRungs = replay?.rungs
    }

    /// Whether a rung of `epochs` additional epochs over `imagesPerEpoch` images may start,
    /// given what the search has spent so far.
    func admits(epochs: Int, imagesPerEpoch: Int, spentSeconds: Double, spentImages: Int) -> Bool {
        if let replayRungs {
            guard rungs < replayRungs else { return false }
        } else {
            let perImage = spentImages > 0 ? spentSeconds / Double(spentImages) : 0
            guard spentSeconds + perImage * Double(epochs * imagesPerEpoch) <= seconds else { return false }
        }
        rungs += 1
        return true
    }

    /// What the search's output says about it.
    func summary(spent: Double) -> String {
        String(format: "time budget %@ CPU s: spent %.1f CPU s in %@", Invocation.number(seconds), spent, rungs == 1 ? "1 rung" : "\(rungs) rungs")
            + (replayRungs != nil ? " (the recorded number of rungs, replayed)" : "")
    }

    /// The note the recorder writes after the command.
    var note: String { RungCap(rungs: rungs).note }
}

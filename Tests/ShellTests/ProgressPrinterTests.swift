import Notebook
import Testing
@testable import quantlab

/// Progress frames: redrawn in place on a terminal, plain lines elsewhere.
@Suite struct ProgressPrinterTests {
    final class Capture: @unchecked Sendable { var text = "" }

    @Test func terminalRedrawsInPlace() {
        let out = Capture()
        let printer = ProgressPrinter(terminal: true, columns: { 12 }, write: { out.text += $0 })
        printer.show(ProgressFrame(lines: ["fp  epoch 1", "w4  epoch 1"]))
        printer.show(ProgressFrame(lines: ["fp  epoch 2 of 3 (long)"]))
        let clear = "\r\u{1B}[2K"
        #expect(out.text == clear + "fp  epoch 1\n" + clear + "w4  epoch 1\n"
                + "\u{1B}[2A" + clear + "fp  epoch 2\n" + clear + "\n" + "\u{1B}[1A")
    }

    @Test func plainOutputShowsOnlyFinalFrames() {
        let out = Capture()
        let printer = ProgressPrinter(terminal: false, write: { out.text += $0 })
        printer.show(ProgressFrame(lines: ["fp epoch 1 running"]))
        printer.show(ProgressFrame(lines: ["fp epoch 1 val 0.81", "w4 epoch 1 val 0.77"], final: true))
        printer.show(ProgressFrame(lines: ["fp epoch 1 val 0.81", "w4 epoch 2 val 0.79"], final: true))
        #expect(out.text == "fp epoch 1 val 0.81\nw4 epoch 1 val 0.77\nw4 epoch 2 val 0.79\n")
    }
}

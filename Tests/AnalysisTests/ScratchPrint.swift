import Testing
@testable import Analysis

@Test func scratchPrint() {
    let s = [Series(name: "fp", y: [0.62, 0.74, 0.81, 0.85]),
             Series(name: "w4a4", y: [0.55, 0.70, 0.78, 0.80]),
             Series(name: "w1a1", y: [0.40, 0.52, 0.58, 0.61])]
    print(TextPlot.lines(s, title: "Validation accuracy", xLabel: "epoch", yLabel: "val_acc"))
    print(TextPlot.lines(Array(s.prefix(2)), title: "acc", xLabel: "epoch", yLabel: "", width: 30, height: 10))
    print(TextPlot.scatter([Series(name: "k-bit", x: [0.6, 0.7, 0.8], y: [0.85, 0.88, 0.9]), Series(name: "binary", x: [0.3, 0.4], y: [0.6, 0.65])], title: "early vs final", xLabel: "val_acc @ epoch 2", yLabel: "test_acc"))
    let acc = [0.90, 0.85, 0.85, 0.80, 0.70, 0.70, 0.92, 0.90, 0.60]
    let cost: [Double] = [1e9, 2.5e8, 2.5e8, 2.5e8, 1.6e7, 3e7, 3.2e10, 4e9, 1.6e7]
    print(TextPlot.pareto(accuracy: acc, cost: cost, title: "Pareto", xLabel: "BOPs", logCost: true))
    print(TextPlot.pareto(accuracy: acc, cost: cost, title: "Pareto", xLabel: "BOPs", style: .unicode))
    print(TextPlot.lines([], title: "empty", xLabel: "x", yLabel: "y", width: 40, height: 10))
}

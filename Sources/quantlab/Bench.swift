import ArgumentParser
import Notebook

/// `quantlab bench [NAMES…] [--quick]`: throughput figures.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (release builds only give meaningful numbers).")

    @Argument(help: "Benchmarks to run (all when none are given).")
    var names: [String] = []

    @Flag(name: .long, help: "Shorter runs, rougher numbers.")
    var quick = false

    func run() throws {
        Startup.prepare()
        Benchmarks.run(names: names, quick: quick, output: Console.out)
    }
}

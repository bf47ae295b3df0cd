/// `quantlab bench`: throughput figures, one `name value unit` line each.
/// (Being written by the integrator; this signature is stable.)
public enum Benchmarks {
    /// Runs the named benchmarks (all when empty); `quick` shortens them.
    public static func run(names: [String], quick: Bool, output: (String) -> Void) {
        output("bench not implemented yet")
    }
}

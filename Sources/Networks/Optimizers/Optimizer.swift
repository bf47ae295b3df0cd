import Tensors

/// Updates parameters from their gradients.
///
/// State (momentum, moments) is kept per parameter, keyed by the parameter's
/// position in the list, and created at the first step; pass the same list, in the
/// same order, every step. After each parameter's update the optimizer calls its
/// `afterUpdate` hook (BinaryConnect clips latent weights there).
public protocol Optimizer: AnyObject {
    func step(_ params: [Parameter], learningRate: Float)
}

extension Optimizer {
    /// Precondition shared by the optimizers: state was made for this many parameters.
    func checkState(count: Int, for params: [Parameter], _ kind: String) {
        precondition(count == params.count,
                     "\(kind): step called with \(params.count) parameters, state holds \(count); use one optimizer per model")
    }
}

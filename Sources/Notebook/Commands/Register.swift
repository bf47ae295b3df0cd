/// Registers the domain commands (data, model, precision, config, trial, search,
/// correlate, plot, cost, export, sql). Called by `Notebook.init` after the
/// built-ins. Placeholder: the integrator fills it in.
func registerDomainCommands(_ registry: inout CommandRegistry) {
}

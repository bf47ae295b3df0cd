/// Registers the domain commands (data, model, precision, config, cost, trial,
/// search, correlate, pareto, plot, quantizer, export, sql, store). Called by
/// `Notebook.init` after the built-ins.
func registerDomainCommands(_ registry: inout CommandRegistry) {
    registry.register(DataCommands.specs)
    registry.register(ModelCommands.specs)
    registry.register(ConfigCommands.specs)
    registry.register(TrialCommands.specs)
    registry.register(SearchCommands.specs)
    registry.register(SlurmCommands.specs)
    registry.register(PerLayerSearchCommands.specs)
    registry.register([SearchComparison.spec, PerLayerSpace.configSpec])
    registry.register(SensitivityCommands.specs)
    registry.register(AnalysisCommands.specs)
    registry.register(CompareCommand.specs)
    registry.register(StoreCommands.specs)
    registry.register(QuantizerCommands.specs)
}

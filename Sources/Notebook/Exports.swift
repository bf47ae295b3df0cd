// The executable reaches the engine's entry points (Benchmarks, TrialRunner) through Notebook.
@_exported import Trials

// The seeded generator every module uses is `Random.SplitMix64`; Tensors re-exports
// it so the modules above (Quantization, Networks, Datasets, Trials, Notebook) see the
// one type without importing Random themselves.
@_exported import Random

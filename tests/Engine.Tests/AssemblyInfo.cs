// libtorch's random generator is process-wide: tests that check seeded reproducibility must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

"""Traffic generation for benchmarks and tests (a district-month): beside the product, never installed with it."""

"""Performance benchmark harness (`make bench`, docs/performance.md). Not part of the test suite."""

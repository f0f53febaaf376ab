"""The build's speed tricks, each paying for its lines (BENCHMARKS.md): the side process, the
allocator setting, and Dagster's private APIs (used here only)."""

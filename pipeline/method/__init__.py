"""The index method as pure functions (no I/O), named as in the IoD / COINr vocabulary."""

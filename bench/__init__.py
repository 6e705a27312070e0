"""Benchmarks: each module has `main() -> int`, prints its figures as it goes and, as
its last line, one JSON object with every figure and the baseline measured in the
same run."""

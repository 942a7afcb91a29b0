"""Benchmarks: figures you can compare, never timed assertions in tests."""

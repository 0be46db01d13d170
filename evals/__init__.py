"""Offline evaluation: question sets, scoring, reports and benchmarks."""

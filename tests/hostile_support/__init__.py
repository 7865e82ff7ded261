"""Hostile inputs, generated on demand (tests/hostile_corpus_test.py, bench/hostile_bench.py)."""

"""The benchmark suite: ``make bench`` / ``python -m bench.run``.

Every figure is measured next to a raw baseline (plain kafka-python, plain SQL) in the same
run, against the real services started as real processes on an embedded PostgreSQL and
Tansu, and reported as a ratio in ``bench/results/latest.{json,md,png}``.
"""

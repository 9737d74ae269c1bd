"""Evaluation harness: damage clean Swedish texts, restore them, score the result.

``damage`` makes the damaged inputs (seeded and deterministic), ``evaluate``
scores every system on them and writes the report, ``run_eval`` is the command
line (``python -m benchmarks.run_eval``).
"""

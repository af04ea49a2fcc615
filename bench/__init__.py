"""Load and startup benchmarks (not tests): `python3 tasks.py bench`."""

"""smtp-shell's benchmarks: one runner (`python -m bench`), every figure a ratio against a
baseline measured in the same run. See bench/README.md for the rows, the targets and results.
"""

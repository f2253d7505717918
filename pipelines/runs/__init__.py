"""Dagster runs seen from outside the code location: the home's instance, the tags that
carry a run's window, what a run did in lines a person reads, and runs that died.

Used by the CLI's runner (``pipelines/orchestrate.py``) and by the wiring's sensors; it
imports Dagster, never the wiring (``pipelines/defs``).
"""

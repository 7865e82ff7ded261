"""Placement: which images are built from where, what the evidence says about them, and where
each workload should run (Dockerfiles, build links, CI platforms, verdicts, recommendations)."""

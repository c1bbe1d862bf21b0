"""Inference from evidence: calibration (ABC-SMC) and sensitivity analysis."""

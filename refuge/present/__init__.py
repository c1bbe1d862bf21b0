"""Presenting results to people: the self-contained HTML report and its figures."""

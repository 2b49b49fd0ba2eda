"""Retail Insights: shared settings, errors and the command line."""

__version__ = "0.1.0"

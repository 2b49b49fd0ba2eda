"""Bring your own data: profile files, write draft dataset YAML, check a dataset against its data."""

"""Storage: dataset specs, semantic models, Delta I/O, views and SQL backends."""

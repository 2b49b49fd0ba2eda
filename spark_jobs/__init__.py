"""ETL jobs: raw files -> bronze -> validated, deduplicated Delta tables, on Dask or Spark.

Importing this package is light: pandas and pyarrow only; dask, distributed and pyspark load
inside the engine that needs them.
"""

"""Operations: what Prometheus scrapes beyond the request counters, the alert rules and dashboards
that read it, and the cost report.

- ``monitoring.data_health``: data health read from the pipeline's own records (the silver table's last
  commit, the batch ledger, the stream consumer's batches and the health DAG's last report);
- ``monitoring.exporter``: those numbers, the LLM budget and Redis as Prometheus metrics at scrape time;
- ``monitoring.serving``: the service ``retail-insights serve`` runs, the assistant's API with the above;
- ``monitoring.costs``, ``monitoring.pricing``, ``monitoring.projection``: ``retail-insights report cost``;
- ``prometheus/`` (scrape config, alert rules and their ``promtool`` tests), ``grafana/`` (provisioned
  dashboards) and ``statsd/`` (Airflow's StatsD names as Prometheus metrics): files the compose file
  mounts.

This package sits on top: it reads every layer's records and nothing below imports it.
"""

"""Optional observability: Prometheus metrics and OpenTelemetry tracing, both by setting."""

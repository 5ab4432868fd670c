"""Step Functions: version-pinned hooks of moto's interpreter and `python -m infra executions`."""

"""Fault injection: what real AWS does under contention and failure, on demand (docs/local-cloud.md,
"Fault injection"). `spec` parses and checks the one spec string, `control` holds it in the cloud and
counts what was injected, `worker` applies it inside function workers (DynamoDB errors, the payment
provider's variable), `client` changes it on a running cloud over HTTP (`python -m infra faults`)."""

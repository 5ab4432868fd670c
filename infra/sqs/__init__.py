"""SQS: event source mappings of queues (the queues live in moto)."""

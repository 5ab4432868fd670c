"""SQS: event source mappings of queues (the queues live in moto) and a version-pinned fix of moto's SQS."""

"""DynamoDB: stream event source mappings and the TTL sweeper (the tables live in DynamoDB Local)."""

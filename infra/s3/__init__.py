"""S3: bucket notifications delivered to functions (the buckets live in moto)."""

"""Batch jobs: jobs/recommendations.py (Spark; EMR Serverless on AWS, `make recs` locally)."""

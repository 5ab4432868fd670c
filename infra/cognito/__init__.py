"""Cognito user pools: moto's, with a version-pinned fix (moto_hooks)."""

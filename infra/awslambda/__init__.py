"""Lambda: function workers (forked or exec'd processes), their logs and the Lambda Invoke API."""

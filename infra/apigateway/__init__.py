"""API Gateway (HTTP API): the gateway in front of the functions, its JWT authorizer and throttling."""

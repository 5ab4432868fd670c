"""The local cloud: template.yaml served on loopback without Docker, one package per emulated AWS service.

    cloud.py          LocalCloud: start-up order, health, and the component registry (the event sources)
    __main__.py       the CLI: run, env, invoke, events, executions
    launcher.py       launch() a cloud as a child process (tests, benchmarks)
    seed.py           the demo seller, buyer and catalog, created through the API
    moto_server.py    `python -m infra.moto_server`: moto's server with the services' version-pinned hooks
    core/             AWS constants and Endpoints (aws), boto3 clients (clients), the DynamoDB Local and
                      moto processes (processes, java/), the Component protocol (components), the SQS poll
                      loop (poller), whether the cloud is busy (activity)
    cloudformation/   template.yaml read and translated by SAM (template), intrinsics, provisioning
    awslambda/        function workers (workers, forkserver, worker_zygote, worker_bootstrap), their logs,
                      the Lambda Invoke API (invoke_api); models: FunctionSpec, EventSourceMappingSpec
    apigateway/       the HTTP API gateway, its JWT authorizer and throttling
    dynamodb/         stream event source mappings (streams) and the TTL sweeper (ttl)
    sqs/              SQS event source mappings (event_source), a version-pinned moto fix (moto_hooks)
    s3/               bucket notifications to functions (notifications)
    events/           EventBridge rules and schedules (bus, patterns, input, schedules, targets), the event
                      log served at GET /_local/events (log) and `python -m infra events` (inspect)
    stepfunctions/    moto's interpreter hooks (hooks) and `python -m infra executions` (executions)
    cognito/          version-pinned moto fixes: a lock (moto_hooks), the email verification flow whose codes
                      go through moto's SES (verification); the mailbox at GET /_local/mail and
                      `python -m infra mail` (mail)

Each service package keeps the records the provisioner builds for it in models.py. Dependencies point
one way: core <- awslambda <- the other services; cloudformation builds the services' models; only
cloud.py, moto_server.py, launcher.py and __main__.py put everything together.
"""

"""Least privilege: every role the template makes grants exactly what its function's code uses.

The template is translated as `sam deploy` would (SAM policy templates expand to their actions) and compared,
role by role, with the table below: one line per resource a function touches, with the access it needs and why.
A grant that is not in the table - a wider policy template, another table, an extra action - fails the test,
and so does a function or role the table does not know. docs/security.md ("Least privilege and stages") says
how each line was found; a change to a function's data access changes its line here in the same commit.
"""

from __future__ import annotations

import fnmatch
import json
from functools import cache
from pathlib import Path

import cfnlint
import pytest

from infra.awslambda.models import function_reference
from infra.core.aws import ACCOUNT_ID, REGION
from tests.support.stack import Stack, render

# The actions SAM's DynamoDB policy templates expand to (a SAM upgrade that widens one fails the test).
READ = frozenset(
    {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}
)
WRITE = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"})
CRUD = READ | WRITE | {"dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
# powertools idempotency (DynamoDBPersistenceLayer): read a record, claim it, complete it, release it.
IDEMPOTENCY = frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})
SEND_TASK = frozenset({"states:SendTaskSuccess", "states:SendTaskFailure"})


def table(name: str, actions: frozenset[str]) -> dict[str, frozenset[str]]:
    """A SAM DynamoDB policy template's grant: the table and its indexes."""
    return {f"dynamodb:table/{name}": actions, f"dynamodb:table/{name}/index/*": actions}


def idempotency() -> dict[str, frozenset[str]]:
    return {"dynamodb:table/IdempotencyTable": IDEMPOTENCY}


def task_tokens() -> dict[str, frozenset[str]]:
    return {"*": SEND_TASK}  # the only Resource these actions accept (UNSCOPABLE below)


BEHAVIOUR = "events:event-bus/ShopEventBus"  # behaviour events, off the request's path (shop.events)

# role -> resource -> actions. Read from functions/<name>/app.py and the shop modules each one calls.
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "UsersFunctionRole": {  # shop.accounts: sign-up, confirm, group, undo of a failed sign-up, login, refresh;
        # profile and address book; DELETE /me (deletes the pool user, anonymises the caller's orders)
        "cognito-idp:userpool/UserPool": frozenset(
            {"cognito-idp:SignUp", "cognito-idp:AdminConfirmSignUp", "cognito-idp:AdminAddUserToGroup",
             "cognito-idp:AdminDeleteUser", "cognito-idp:InitiateAuth"}
        ),
        **table("ProfilesTable", CRUD),
        "dynamodb:table/OrdersTable/index/byUser": frozenset({"dynamodb:Query"}),
        "dynamodb:table/OrdersTable": frozenset({"dynamodb:UpdateItem"}),
        # ... and archived orders: each document rewritten without the address, its earlier versions erased
        "s3:OrderArchiveBucket/orders/*": frozenset({"s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion"}),
        "s3:OrderArchiveBucket": frozenset({"s3:ListBucketVersions"}),
        BEHAVIOUR: frozenset({"events:PutEvents"}),  # VisitorIdentified at login
    },
    "AccountEventsFunctionRole": {  # Profiles stream -> AccountDeleted, published once (its dedup records)
        **idempotency(), "events:event-bus/ShopEventBus": frozenset({"events:PutEvents"}),
        "sqs:AccountEventsDeadLetterQueue": frozenset({"sqs:SendMessage*"}),
    },
    "CatalogFunctionRole": {  # onboard (transaction: item, stock rows, SKU claim), read, change, (de)activate
        **table("ItemsTable", CRUD), **table("InventoryTable", CRUD), **table("SkuClaimsTable", CRUD),
        **idempotency(), BEHAVIOUR: frozenset({"events:PutEvents"}),  # ItemViewed
    },
    "ImportsApiFunctionRole": {  # the import record; the presigned POST is signed with this role
        **table("ImportsTable", CRUD), "s3:ImportsBucket/imports/*": frozenset({"s3:PutObject"}),
    },
    "ImportProcessorFunctionRole": {  # claims the import, reads the file, onboards each row like the catalog
        **table("ImportsTable", CRUD), **table("ItemsTable", CRUD), **table("InventoryTable", CRUD),
        **table("SkuClaimsTable", CRUD), "s3:ImportsBucket/imports/*": frozenset({"s3:GetObject"}),
        "sqs:ImportProcessorDeadLetterQueue": frozenset({"sqs:SendMessage"}),  # SAM's DeadLetterQueue grant
    },
    "ItemEventsFunctionRole": {  # Items stream -> bus; failed batches to its dead-letter queue
        "events:event-bus/ShopEventBus": frozenset({"events:PutEvents"}),
        "sqs:ItemEventsDeadLetterQueue": frozenset({"sqs:SendMessage*"}),
    },
    "ApiDocsFunctionRole": {},  # serves a file from its own package
    "DiagnosticsFunctionRole": {},  # no-op, raise, sleep, echo: touches nothing
    "SearchFunctionRole": {  # tantivy: the index on the function's disk (opensearch: see OPENSEARCH)
        "secretsmanager:secret:SearchCursorKeySecret": frozenset({"secretsmanager:GetSecretValue"}),  # signs cursors
        BEHAVIOUR: frozenset({"events:PutEvents"}),  # SearchPerformed
    },
    "IndexerFunctionRole": {"sqs:IndexerDeadLetterQueue": frozenset({"sqs:SendMessage*"})},
    "CartFunctionRole": {  # the cart row (read, conditional put, merge: put + delete); offers: item + stock;
        # the default address's tax region
        "dynamodb:table/ProfilesTable": frozenset({"dynamodb:GetItem"}),
        **table("CartsTable", CRUD), **table("ItemsTable", READ), **table("InventoryTable", READ),
        BEHAVIOUR: frozenset({"events:PutEvents"}),  # AddedToCart
    },
    "ImageUploadsFunctionRole": {  # the item's PENDING image entry; the presigned POST is signed with this role
        **table("ItemsTable", CRUD), "s3:MediaBucket/uploads/*": frozenset({"s3:PutObject"}),
    },
    "ImageProcessorFunctionRole": {  # checks the upload, writes renditions, marks the entry, announces it
        **table("ItemsTable", CRUD), "events:event-bus/ShopEventBus": frozenset({"events:PutEvents"}),
        "s3:MediaBucket/uploads/*": frozenset({"s3:GetObject", "s3:DeleteObject"}),
        "s3:MediaBucket/renditions/*": frozenset({"s3:PutObject"}),
        "s3:MediaBucket": frozenset({"s3:ListBucket"}),  # HEAD of a deleted upload answers 404, not 403
        "sqs:ImageProcessorDeadLetterQueue": frozenset({"sqs:SendMessage"}),
    },
    "CheckoutFunctionRole": {  # reprices the cart, soft stock check, PENDING order + hold, starts the saga
        "secretsmanager:secret:CheckoutKeySecret": frozenset({"secretsmanager:GetSecretValue"}),
        **table("OrdersTable", CRUD), **table("CartsTable", CRUD), **table("ItemsTable", READ),
        **table("InventoryTable", READ), **idempotency(),
        "states:stateMachine:CheckoutStateMachine": frozenset({"states:StartExecution"}),
        "dynamodb:table/ProfilesTable": frozenset({"dynamodb:GetItem"}),  # the default address: tax region, copy
    },
    "OrdersFunctionRole": {  # list/read orders (archived ones from S3); a cancel voids or refunds, gives stock
        # back (updates), closes
        **table("OrdersTable", CRUD), **table("PaymentsTable", CRUD), **table("PaymentProviderLedgerTable", CRUD),
        **table("InventoryTable", WRITE), **task_tokens(),
        "s3:OrderArchiveBucket/orders/*": frozenset({"s3:GetObject"}),
    },
    "OrderArchiverFunctionRole": {  # TTL-deleted order -> archive object + its index entry; failures to its queue
        "dynamodb:table/OrdersTable": frozenset({"dynamodb:PutItem"}),
        "s3:OrderArchiveBucket/orders/*": frozenset({"s3:PutObject"}),
        "sqs:OrderArchiveFailureQueue": frozenset({"sqs:SendMessage*"}),
    },
    "PaymentsFunctionRole": {  # confirms a payment with the provider and tells the waiting saga
        **table("PaymentsTable", CRUD), **table("PaymentProviderLedgerTable", CRUD), **task_tokens(),
    },
    "InventoryFunctionRole": {  # restock: the stock row, in a transaction that checks the item's seller
        **table("InventoryTable", CRUD), "dynamodb:table/ItemsTable": frozenset({"dynamodb:ConditionCheckItem"}),
    },
    "SagaFunctionRole": {  # reserve (reads what is left when short), create, charge, confirm, fail, ship
        **table("OrdersTable", CRUD), **table("PaymentsTable", CRUD), **table("PaymentProviderLedgerTable", CRUD),
        **table("InventoryTable", CRUD), **table("CartsTable", CRUD), **task_tokens(),
    },
    "OrderEventsFunctionRole": {  # stream images -> events, published once (its dedup records)
        **idempotency(), "events:event-bus/ShopEventBus": frozenset({"events:PutEvents"}),
        "sqs:OrderEventsDeadLetterQueue": frozenset({"sqs:SendMessage*"}),
    },
    "OrderUnwindFunctionRole": {  # expires an order, voids or refunds, releases stock (updates), closes
        **table("OrdersTable", CRUD), **table("PaymentsTable", CRUD), **table("PaymentProviderLedgerTable", CRUD),
        **table("InventoryTable", WRITE), "sqs:OrderEventsDeadLetterQueue": frozenset({"sqs:SendMessage*"}),
        **task_tokens(),
    },
    "PaymentsReconcilerFunctionRole": {  # scans payments, asks an order's status, settles with the provider
        **table("OrdersTable", READ), **table("PaymentsTable", CRUD), **table("PaymentProviderLedgerTable", CRUD),
        **task_tokens(),
        "sqs:PaymentsReconcilerDeadLetterQueue": frozenset({"sqs:SendMessage"}),  # a run that failed its retries
    },
    # SAM's LambdaInvokePolicy: the function and every qualifier of it, its alias `live` (what the saga invokes) too
    "CheckoutStateMachineRole": {"lambda:function:SagaFunction*": frozenset({"lambda:InvokeFunction"})},
    "CodeDeployServiceRole": {},  # DeploymentPreference's (SAM makes it): AWS managed AWSCodeDeployRoleForLambda only
    "WishlistFunctionRole": {  # entries + count (query, add/remove transactions); items and stock batch-read
        "dynamodb:table/WishlistTable": frozenset(
            {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}),
        "dynamodb:table/ItemsTable": frozenset({"dynamodb:GetItem", "dynamodb:BatchGetItem"}),
        "dynamodb:table/InventoryTable": frozenset({"dynamodb:BatchGetItem"}),
        BEHAVIOUR: frozenset({"events:PutEvents"}),  # Wishlisted
    },
    "NotificationsFunctionRole": {  # list, count, preferences (get, put), mark read (update transaction)
        "dynamodb:table/NotificationsTable": frozenset(
            {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}),
    },
    "NotifierFunctionRole": {  # notices recorded once (check, put, count), emailed once, erased on AccountDeleted
        "dynamodb:table/NotificationsTable": frozenset(
            {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
             "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"}),
        "dynamodb:table/WishlistTable": frozenset({"dynamodb:Query", "dynamodb:BatchWriteItem"}),
        "dynamodb:table/WishlistTable/index/byItem": frozenset({"dynamodb:Query"}),
        "dynamodb:table/ItemsTable": frozenset({"dynamodb:GetItem"}),
        "dynamodb:table/OrdersTable": frozenset({"dynamodb:GetItem"}),
        **idempotency(),
        "cognito-idp:userpool/UserPool": frozenset({"cognito-idp:AdminGetUser"}),
        "ses:identity/notifications@example.com": frozenset({"ses:SendEmail"}),
        "sqs:NotifierStreamFailureQueue": frozenset({"sqs:SendMessage*"}),
    },
    "BehaviourLakeFunctionRole": {  # batches -> Parquet + the archived batch; compaction lists, reads, replaces
        "s3:BehaviourLakeBucket/events/*": frozenset({"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}),
        "s3:BehaviourLakeBucket/archive/*": frozenset({"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}),
        "s3:BehaviourLakeBucket": frozenset({"s3:ListBucket"}),
        "sqs:BehaviourCompactionDeadLetterQueue": frozenset({"sqs:SendMessage"}),  # failed compactions
    },
    "RecommendationsFunctionRole": {  # pointer + version rows, new arrivals, purchases; candidates on sale?
        "dynamodb:table/RecommendationsTable": frozenset(
            {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem"}),
        "dynamodb:table/ItemsTable": frozenset({"dynamodb:BatchGetItem"}),
        "dynamodb:table/InventoryTable": frozenset({"dynamodb:BatchGetItem"}),
    },
    "RecommendationsJobRole": {  # EMR Serverless: reads the lake, writes a version and moves the pointer
        "s3:BehaviourLakeBucket/events/*": frozenset({"s3:GetObject"}),
        "s3:BehaviourLakeBucket": frozenset({"s3:ListBucket"}),
        "s3:RecommendationsJobBucket": frozenset({"s3:ListBucket"}),
        "s3:RecommendationsJobBucket/*": frozenset({"s3:GetObject", "s3:PutObject"}),
        "dynamodb:table/RecommendationsTable": frozenset(
            {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:GetItem"}),
    },
    "RecommendationsScheduleRole": {  # EventBridge Scheduler starts the job's runs, handing it its role
        "emr-serverless:/applications/RecommendationsSparkApplication": frozenset({"emr-serverless:StartJobRun"}),
        "RecommendationsJobRole.Arn": frozenset({"iam:PassRole"}),  # the role (as the renderer names it)
    },
}  # fmt: skip
OPENSEARCH = {  # SearchEngine=opensearch: the search and indexer functions reach the collection, nothing else
    "SearchFunctionRole": {**EXPECTED["SearchFunctionRole"],
                           "aoss:collection/SearchCollection": frozenset({"aoss:APIAccessAll"})},
    "IndexerFunctionRole": {**EXPECTED["IndexerFunctionRole"],
                            "aoss:collection/SearchCollection": frozenset({"aoss:APIAccessAll"})},
}  # fmt: skip

# Actions granted on Resource "*", each because IAM offers no resource to name (checked against AWS's own
# action table below, so this list cannot hide an action that could be scoped).
UNSCOPABLE = {
    "states:SendTaskSuccess": "reports a task token's result; task tokens are not IAM resources",
    "states:SendTaskFailure": "reports a task token's failure; task tokens are not IAM resources",
}
# Actions with a wildcard, each from a SAM policy template and covering only the named actions.
WILDCARD_ACTIONS = {"sqs:SendMessage*": "SAM's SQSSendMessagePolicy: SendMessage and SendMessageBatch"}
# AWS managed policies SAM attaches to the roles it makes (it has no switch to leave them out).
MANAGED = {
    "AWSLambdaBasicExecutionRole": "every function: its own log streams (CloudWatch Logs)",
    "AWSXrayWriteOnlyAccess": "every function (Tracing: Active) and the state machine (Tracing: Enabled): trace "
                              "segments, which have no resource",
    "AWSLambdaDynamoDBExecutionRole": "functions with DynamoDB stream events: Lambda reads the streams for them",
    "AWSLambdaSQSQueueExecutionRole": "functions with SQS events: Lambda receives and deletes their messages",
    "AWSCodeDeployRoleForLambda": "CodeDeploy's role for the deployment preferences: moves the aliases, reads the "
                                  "rollback alarms",
}


@cache
def stack(**overrides: str) -> Stack:
    return render(overrides)


def dev_with_diagnostics() -> Stack:
    return stack(Stage="dev", EnableDiagnostics="true")  # every role the template can make (tantivy)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_grants_exactly_what_its_function_uses(role: str) -> None:
    granted = dev_with_diagnostics().grants(role)
    assert {resource: frozenset(actions) for resource, actions in granted.items()} == EXPECTED[role]


def test_with_opensearch_only_search_and_indexer_gain_the_collection() -> None:
    deployed = stack(SearchEngine="opensearch", EnableDiagnostics="true")
    for role, expected in EXPECTED.items():
        granted = {resource: frozenset(actions) for resource, actions in deployed.grants(role).items()}
        assert granted == OPENSEARCH.get(role, expected), role


def test_the_table_covers_every_role_the_template_makes() -> None:
    assert set(dev_with_diagnostics().of_type("AWS::IAM::Role")) == set(EXPECTED)


def test_no_function_has_a_role_the_table_does_not_check() -> None:
    """A function with its own Role (not made by SAM from Policies) would escape the table above."""
    for name, function in dev_with_diagnostics().of_type("AWS::Lambda::Function").items():
        assert function["Properties"]["Role"] == f"{name}Role.Arn", name


@cache
def _aws_actions() -> dict[str, dict[str, object]]:
    """AWS's table of actions and the resource types each accepts, as cfn-lint ships it
    (the Service Authorization Reference: "Actions, resources, and condition keys for ...")."""
    data = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    services = json.loads(data.read_text())
    return {f"{prefix}:{action}": spec for prefix, service in services.items()
            for action, spec in service.get("Actions", {}).items()}  # fmt: skip


@pytest.mark.parametrize("action", sorted(UNSCOPABLE))
def test_an_action_on_every_resource_is_one_iam_cannot_scope(action: str) -> None:
    spec = _aws_actions()[action.lower()]
    assert not spec.get("Resources"), f"{action} accepts resource types {spec['Resources']}: name them instead of *"


def test_resource_star_is_granted_only_for_unscopable_actions() -> None:
    for role in dev_with_diagnostics().of_type("AWS::IAM::Role"):
        granted = dev_with_diagnostics().grants(role)
        assert granted.get("*", set()) <= set(UNSCOPABLE), role
        assert not any(resource.endswith(":*") for resource in granted), role  # "dynamodb:*"-style resources


def test_no_action_is_a_service_wildcard() -> None:
    for role in dev_with_diagnostics().of_type("AWS::IAM::Role"):
        for actions in dev_with_diagnostics().grants(role).values():
            for action in actions:
                assert action != "*" and not action.endswith(":*"), (role, action)
                assert "*" not in action or action in WILDCARD_ACTIONS, (role, action)


def test_managed_policies_are_only_those_sam_attaches() -> None:
    deployed = dev_with_diagnostics()
    for name in deployed.of_type("AWS::Lambda::Function"):
        mappings = [mapping["Properties"] for mapping in deployed.of_type("AWS::Lambda::EventSourceMapping").values()
                    if function_reference(mapping["Properties"]["FunctionName"]).split(":")[0] == name]  # alias too
        reads_streams = any(":dynamodb:" in mapping["EventSourceArn"] for mapping in mappings)
        reads_queues = any(":sqs:" in mapping["EventSourceArn"] for mapping in mappings)
        expected = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}
        if reads_streams:
            expected.add("AWSLambdaDynamoDBExecutionRole")
        if reads_queues:
            expected.add("AWSLambdaSQSQueueExecutionRole")
        assert deployed.managed_policies(f"{name}Role") == expected <= set(MANAGED), name
    assert deployed.managed_policies("CheckoutStateMachineRole") == {"AWSXrayWriteOnlyAccess"}
    assert deployed.managed_policies("CodeDeployServiceRole") == {"AWSCodeDeployRoleForLambda"}


def test_the_state_machine_may_invoke_the_alias_it_names() -> None:
    """The saga's tasks name SagaFunction's alias (a qualified ARN): the role's InvokeFunction grant covers it."""
    deployed = dev_with_diagnostics()
    invoked = deployed.resources["CheckoutStateMachine"]["Properties"]["DefinitionSubstitutions"]["SagaFunctionArn"]
    assert invoked == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:SagaFunction:live"
    grants = deployed.grants("CheckoutStateMachineRole")
    assert any(fnmatch.fnmatchcase(deployed.short(invoked), resource) and "lambda:InvokeFunction" in actions
               for resource, actions in grants.items())  # fmt: skip

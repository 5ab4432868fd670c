"""The fault spec's grammar and checks (infra.faults.spec)."""

from __future__ import annotations

import pytest

from infra.faults.spec import FaultSpecError, Resources, parse

STACK = Resources(
    tables={"OrdersTable": "marketplace-OrdersTable", "InventoryTable": "marketplace-InventoryTable"},
    queues={"IndexerDeadLetterQueue": "marketplace-IndexerDeadLetterQueue"},
    functions={"SagaFunction", "CatalogFunction"},
)


def test_the_full_example_parses_into_one_entry_per_name():
    spec = parse(
        "dynamodb.conflict=0.2,dynamodb.throttle=0.05,dynamodb.error=0.01,dynamodb.outage=5,"
        "lambda.kill=SagaFunction:1,provider.fail=0.05,provider.timeout=0.02,stream.duplicate=0.1,"
        "sqs.duplicate=0.1,sqs.reorder=0.5",
        STACK,
    )
    by_key = {entry.key: entry for entry in spec.entries}
    assert by_key["dynamodb.conflict"].rate == 0.2
    assert by_key["dynamodb.outage"].seconds == 5
    assert (by_key["lambda.kill"].function, by_key["lambda.kill"].count) == ("SagaFunction", 1)
    assert by_key["sqs.reorder"].rate == 0.5
    assert spec.provider == "fail=0.05,timeout=0.02"
    assert str(spec).startswith("dynamodb.conflict=0.2,dynamodb.throttle=0.05")


@pytest.mark.parametrize("text", ["", "off", "OFF", " none "])
def test_off_and_empty_mean_no_faults(text):
    assert not parse(text)


def test_a_dynamodb_scope_is_a_table_and_or_an_operation_and_tables_resolve_to_physical_names():
    table = parse("dynamodb.conflict@OrdersTable=0.3", STACK).entries[0]
    assert table.resources == {"OrdersTable", "marketplace-OrdersTable"}
    assert table.operations == frozenset()
    assert table.key == "dynamodb.conflict@OrdersTable"
    operation = parse("dynamodb.throttle@PutItem=0.1", STACK).entries[0]
    assert (operation.resources, operation.operations) == (frozenset(), {"PutItem"})
    both = parse("dynamodb.error@marketplace-InventoryTable/UpdateItem=1", STACK).entries[0]
    assert (both.resources, both.operations) == ({"marketplace-InventoryTable"}, {"UpdateItem"})


def test_without_the_stack_scopes_are_taken_as_written():
    entry = parse("dynamodb.conflict@Stock=0.3,sqs.reorder@Jobs=1").entries
    assert entry[0].resources == {"Stock"}
    assert entry[1].resources == {"Jobs"}


def test_kill_takes_a_count_or_a_rate_below_one():
    count = parse("lambda.kill=SagaFunction:3", STACK).entries[0]
    assert (count.count, count.rate) == (3, 0.0)
    rate = parse("lambda.kill=SagaFunction:0.25", STACK).entries[0]
    assert (rate.count, rate.rate) == (0, 0.25)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dynamodb.conflcit=0.2", "unknown fault 'dynamodb.conflcit'"),
        ("dynamodb.conflict=1.5", "a rate is between 0 and 1"),
        ("dynamodb.conflict=-0.1", "a rate is between 0 and 1"),
        ("dynamodb.throttle=often", "'often' is not a number"),
        ("dynamodb.error=nan", "not a finite number"),
        ("dynamodb.conflict", "is not NAME=VALUE"),
        ("dynamodb.outage=0", "must be positive"),
        ("dynamodb.outage@OrdersTable=3", "takes no @scope"),
        ("lambda.kill=SagaFunction", "expects FUNCTION:COUNT or FUNCTION:RATE"),
        ("lambda.kill=SagaFunction:0", "a COUNT is at least 1"),
        ("lambda.kill=SagaFunction:1.5", "a RATE is below 1"),
        ("lambda.kill=NoSuchFunction:1", "no function 'NoSuchFunction'"),
        ("dynamodb.conflict@Nope=0.2", "no table or DynamoDB operation 'Nope'"),
        ("dynamodb.conflict@PutItem=0.2", "TransactWriteItems or TransactGetItems"),
        ("dynamodb.throttle@PutItem/GetItem=0.2", "names two operations"),
        ("dynamodb.throttle@OrdersTable/InventoryTable=0.2", "names two tables"),
        ("stream.duplicate@Nope=0.2", "no table 'Nope'"),
        ("sqs.duplicate@Nope=0.2", "no queue 'Nope'"),
        ("sqs.reorder=0.5,sqs.reorder=0.1", "given twice"),
    ],
)
def test_an_invalid_spec_names_what_is_wrong(text, message):
    with pytest.raises(FaultSpecError, match=message.replace("(", r"\(")):
        parse(text, STACK)


def test_provider_entries_pass_through_uninterpreted():
    spec = parse("provider.slow=0.1,provider.whatever=x1", STACK)
    assert spec.provider == "slow=0.1,whatever=x1"

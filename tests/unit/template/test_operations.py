"""The template's operations resources as a stack with given parameters would have them (docs/deploy.md):
reserved concurrency on the checkout path only when asked for, and alarms that all reach the alarm topic."""

from __future__ import annotations

import pytest

from tests.support.stack import render

CHECKOUT_PATH = ("CheckoutFunction", "SagaFunction")


def test_by_default_the_checkout_path_reserves_no_concurrency() -> None:
    # a reservation of 0 would throttle every invocation on AWS (and leave each function one worker locally)
    functions = render({}).of_type("AWS::Lambda::Function")
    for name in CHECKOUT_PATH:
        assert "ReservedConcurrentExecutions" not in functions[name]["Properties"], name


def test_checkout_reserved_concurrency_reserves_it_for_checkout_and_saga_only() -> None:
    functions = render({"CheckoutReservedConcurrency": "50"}).of_type("AWS::Lambda::Function")
    reserved = {
        name: function["Properties"]["ReservedConcurrentExecutions"]
        for name, function in functions.items() if "ReservedConcurrentExecutions" in function["Properties"]
    }  # fmt: skip
    assert reserved == {"CheckoutFunction": "50", "SagaFunction": "50", "IndexerFunction": 1}  # the indexer: one writer


@pytest.mark.parametrize("email", ["", "ops@example.com"])
def test_every_alarm_notifies_the_alarm_topic_which_emails_only_when_given_an_address(email: str) -> None:
    stack = render({"AlarmEmail": email})
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 20
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == alarm["Properties"]["OKActions"] == ["AlarmTopic"], name
    subscriptions = stack.of_type("AWS::SNS::Subscription")
    if email:
        (subscription,) = subscriptions.values()
        assert subscription["Properties"]["Endpoint"] == email
        assert subscription["Properties"]["Protocol"] == "email"
    else:
        assert not subscriptions

"""The local cloud starts on the whole template, operations resources included, and says at start-up which
resource types it only records (alarms, the dashboard, ...), so nobody mistakes them for working locally."""

from __future__ import annotations

import re

import pytest


def test_start_up_lists_the_recorded_only_types_of_the_template(stack):
    if not stack.local:
        pytest.skip("reads the local cloud's console output")
    console = (stack.cloud.workdir / "cloud.out").read_text(errors="replace")
    match = re.search(r"recorded, not emulated: (.*)", console)
    assert match, console[-3000:]
    listed = dict(entry.split(" x") for entry in match.group(1).split(", "))
    assert int(listed["AWS::CloudWatch::Alarm"]) >= 20  # the SLO, dead-letter queue and iterator-age alarms
    assert listed["AWS::CloudWatch::Dashboard"] == "1"
    # what the cloud plays (the edge's web ACL) or needs not play (IAM, log groups) is not listed
    assert not {"AWS::WAFv2::WebACL", "AWS::IAM::Role", "AWS::Logs::LogGroup"} & set(listed)
    # the alarm topic is a real topic in moto, not recorded-only
    assert "AWS::SNS::Topic" not in listed
    topics = stack.client("sns").list_topics()["Topics"]
    assert any("AlarmTopic" in topic["TopicArn"] for topic in topics)

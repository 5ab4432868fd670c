"""The local cloud starts on the whole template, operations resources included, and says at start-up, in one
block, what it emulates only partly or not at all (alarms, the dashboard, tracing, ...), so nobody mistakes them
for working locally (infra.cloudformation.inventory)."""

from __future__ import annotations

import re

import pytest


def test_start_up_lists_what_the_template_uses_that_is_not_emulated(stack):
    if not stack.local:
        pytest.skip("reads the local cloud's console output")
    console = (stack.cloud.workdir / "cloud.out").read_text(errors="replace")
    match = re.search(r"not emulated, or only partly, here \((\d+);.*\n((?:  .*\n)+)", console)
    assert match, console[-3000:]
    lines = match.group(2).splitlines()
    assert len(lines) == int(match.group(1))
    counts = dict(re.findall(r"^  (\S+) x(\d+):", match.group(2), re.MULTILINE))
    assert int(counts["AWS::CloudWatch::Alarm"]) >= 20  # the SLO, dead-letter queue and iterator-age alarms
    assert counts["AWS::CloudWatch::Dashboard"] == "1"
    assert "AWS::Lambda::Function.TracingConfig" in counts  # the functions trace with X-Ray on AWS
    # what the cloud plays (the edge's web ACL) or needs not play (IAM, log groups) is not listed
    assert not {"AWS::WAFv2::WebACL", "AWS::IAM::Role", "AWS::Logs::LogGroup"} & set(counts), lines
    # the alarm topic is a real topic in moto, not recorded-only
    assert "AWS::SNS::Topic" not in counts
    topics = stack.client("sns").list_topics()["Topics"]
    assert any("AlarmTopic" in topic["TopicArn"] for topic in topics)

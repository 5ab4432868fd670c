"""The moto server the local cloud runs: `python -m infra.moto_server -H 127.0.0.1 -p PORT`.

It is moto's own server; this entry point exists so that version-pinned hooks can be installed in the
server process before it starts (see install_hooks). The endpoints of the other local services arrive in
LOCAL_LAMBDA_ENDPOINT and LOCAL_DYNAMODB_ENDPOINT.
"""

from __future__ import annotations

import sys


def install_hooks() -> None:
    """Nothing yet: the Step Functions work (issue 4) routes Lambda and DynamoDB tasks here."""


def main() -> None:
    from moto.server import main as moto_main

    install_hooks()
    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()

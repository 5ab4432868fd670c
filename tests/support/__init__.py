"""What the integration and end-to-end tests share: registered users and item bodies (users), buying and
following an order (checkout), waiting for what the stack emitted or a queue received (events), and for
anything else the system does in the background (polling). The clouds themselves come from
tests/conftest.py (`local_cloud` and the session fixtures built on it)."""

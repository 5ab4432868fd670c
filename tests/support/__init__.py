"""What the integration and end-to-end tests share: registered users and item bodies (users), and waiting
for what the stack emitted or a queue received (events). The clouds themselves come from tests/conftest.py
(`local_cloud` and the session fixtures built on it)."""

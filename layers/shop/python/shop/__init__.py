"""The marketplace domain library, shipped to every function as the shop Lambda layer.

Handlers (functions/*/app.py) parse the event, call a module here by its business name (catalog,
accounts, ...) and shape the response with shop.http; the rules live here, not in the handlers.
"""

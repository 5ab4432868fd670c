"""EventBridge: rules and schedules routed to their targets, the pattern language, and the event log."""

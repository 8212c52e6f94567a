"""triggerlog: durable, event-sourced TriggerFlow orchestration."""

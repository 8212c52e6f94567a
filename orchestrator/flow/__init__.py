"""Definition: the TriggerFlow DSL compiled to serialisable operators, no execution."""

__all__: list[str] = []

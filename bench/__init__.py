"""triggerlog benchmarks: ``python -m bench [store|runtime|peers|recovery|all]``."""

"""Flows and worker scripts shared by the in-process and cross-process tests."""

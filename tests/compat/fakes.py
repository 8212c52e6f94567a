"""Stand-ins for the undefined names the seed snippets use (redis, db, agents...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class FakeRedis:
    """``redis.set`` / ``redis.get`` on a dict (bytes out, like redis-py)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def set(self, key: str, value: str | bytes) -> bool:
        self.data[key] = value.encode() if isinstance(value, str) else value
        return True

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)


class FakeDB:
    """A document store (``save``/``load``) plus an async ``fetch`` for chunks."""

    def __init__(self, name: str = "db") -> None:
        self.name = name
        self.tables: dict[str, dict[str, Any]] = {}
        self.queries: list[str] = []

    def save(self, table: str, key: str, value: Any) -> None:
        self.tables.setdefault(table, {})[key] = value

    def load(self, table: str, key: str) -> Any:
        return self.tables[table][key]

    async def fetch(self, query: str) -> list[dict[str, Any]]:
        self.queries.append(query)
        return [{"1": 1}]


class FakeLogger:
    """Collects ``info`` lines."""

    def __init__(self, name: str = "logger") -> None:
        self.name = name
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


class FakeRequest:
    def __init__(self, text: str) -> None:
        self.text = text

    def start(self) -> str:
        return self.text


class FakeAgent:
    """``agent.load_yaml_prompt(path, prompt_key_path=, mappings=).start()`` -> str."""

    calls: list[dict[str, Any]]

    def __init__(self) -> None:
        self.calls = []

    def load_yaml_prompt(
        self,
        path: Any,
        prompt_key_path: str | None = None,
        mappings: dict[str, Any] | None = None,
    ) -> FakeRequest:
        self.calls.append(
            {
                "path": str(path),
                "key": prompt_key_path,
                "mappings": dict(mappings or {}),
            }
        )
        question = (mappings or {}).get("question", "")
        return FakeRequest(f"analysis of {question!s} via {Path(path).name}")


AGENTS: list[FakeAgent] = []


def make_agent() -> FakeAgent:
    agent = FakeAgent()
    AGENTS.append(agent)
    return agent


def search_function(query: str) -> list[str]:
    return [f"result for {query}"]


PROMPTS_DIR = Path("/srv/prompts")
tenant_policy_doc = "Tenant policy: travel subsidy is 100 per day."

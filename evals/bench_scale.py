"""`assistant bench scale`: the cost of retrieval as the corpus grows (1k / 10k / 100k chunks).

Synthetic stores: chunk texts are real chunk texts of the plan recombined (each synthetic chunk
joins the sentences of two real chunks, so the Kiwi tokens and lengths are real); vectors are the
real EmbeddingGemma vectors for the real chunks (the sample) plus random unit vectors for the
bulk (said in the output). Each store is built once per mode (embedded ``PersistentClient``,
``chroma run`` server), then a fresh worker process opens it and answers the eval questions'
real query embeddings through the product's own retrievers (llama-index over Chroma, bm25s,
fusion), reporting open time, query p50/p95 (dense, BM25, fused), its RSS, and recall@10 of
Chroma's dense top 10 against exact search over the same vectors.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from evals.bench import free_port, latency_stats, mb, stop_process, tree_rss, wait_for_http

SAMPLE_QUESTIONS = 40


def _real_material(services) -> tuple[list[str], list[list[str]], np.ndarray, list[np.ndarray]]:  # noqa: ANN001
    """The plan's chunk texts, their tokens, their real vectors and real query vectors."""
    from assistant.answer.frame import build_frame, query_for
    from evals.dataset import DEFAULT_FILES, load_question_files

    snap = services.retriever.snapshot
    got = snap.chunks.get(include=["documents", "metadatas", "embeddings"])
    texts = list(got["documents"])
    tokens = [(m.get("bm25") or "").split() for m in got["metadatas"]]
    vecs = np.asarray(got["embeddings"], dtype=np.float32)
    from assistant import paths

    qs = load_question_files([paths.resource_root() / f for f in DEFAULT_FILES])
    rng = random.Random(7)
    qs = rng.sample(qs, min(SAMPLE_QUESTIONS, len(qs)))
    queries = [services.retriever.embed_query(query_for(build_frame(q.question))) for q in qs]
    return texts, tokens, vecs, [(q.question, v) for q, v in zip(qs, queries, strict=True)]


def synthesize(
    n: int, texts: list[str], tokens: list[list[str]], vecs: np.ndarray, seed: int = 11
) -> tuple[list[str], list[list[str]], np.ndarray]:
    """n chunks: the real ones first (real vectors), then recombinations with random unit vectors."""
    rng = np.random.default_rng(seed)
    out_t, out_k = list(texts[:n]), list(tokens[:n])
    out_v = [vecs[: min(n, len(vecs))]]
    extra = n - len(out_t)
    if extra > 0:
        a = rng.integers(0, len(texts), extra)
        b = rng.integers(0, len(texts), extra)
        out_t += [
            f"{texts[i][: len(texts[i]) // 2]} {texts[j][len(texts[j]) // 2 :]}"
            for i, j in zip(a, b, strict=True)
        ]
        out_k += [
            tokens[i][: len(tokens[i]) // 2] + tokens[j][len(tokens[j]) // 2 :]
            for i, j in zip(a, b, strict=True)
        ]
        bulk = rng.standard_normal((extra, vecs.shape[1])).astype(np.float32)
        bulk /= np.linalg.norm(bulk, axis=1, keepdims=True)
        out_v.append(bulk)
    return out_t, out_k, np.concatenate(out_v)


def build_store(
    client,
    name: str,
    texts: list[str],
    tokens: list[list[str]],
    vecs: np.ndarray,  # noqa: ANN001
    hnsw: dict,
    bm25_dir: Path,
) -> dict[str, float]:
    """Chunks written the way the index stage writes them (llama-index nodes into Chroma, BM25
    saved with bm25s)."""
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.index import save_bm25

    t0 = time.perf_counter()
    col = client.create_collection(name, configuration={"hnsw": hnsw}, embedding_function=None)
    store = ChromaVectorStore(chroma_collection=col)
    batch = 2000
    for i in range(0, len(texts), batch):
        nodes = []
        for j in range(i, min(len(texts), i + batch)):
            node = TextNode(
                id_=f"c{j}",
                text=texts[j],
                metadata={
                    "doc_id": "plan/synthetic",
                    "doc_title": "synthetic",
                    "kind": "text",
                    "lang": "ko",
                    "page": 1,
                    "page_end": 1,
                    "section": "S",
                    "footnotes": "",
                    "entities": "",
                    "record": "",
                    "refs": "[]",
                    "bm25": " ".join(tokens[j]),
                    "order": j,
                },
            )
            node.embedding = vecs[j].tolist()
            nodes.append(node)
        store.add(nodes)
    t_chroma = time.perf_counter() - t0
    save_bm25(
        bm25_dir, [f"c{j}" for j in range(len(texts))], tokens, [t for k in tokens for t in k]
    )
    return {"chroma_s": round(t_chroma, 2), "bm25_s": round(time.perf_counter() - t0 - t_chroma, 2)}


def worker(spec: dict) -> dict[str, Any]:
    """One app worker: open the store, answer every query through the product's retrievers."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core.schema import QueryBundle

    from assistant.index import BM25Index, IndexSnapshot, Manifest
    from assistant.retrieve import DenseRetriever, FusionRetriever, KiwiBM25Retriever, fill

    rss0 = tree_rss(os.getpid())
    t0 = time.perf_counter()
    cs = ChromaSettings(anonymized_telemetry=False)
    client = (
        chromadb.HttpClient(host="127.0.0.1", port=spec["port"], settings=cs)
        if spec["mode"] == "server"
        else chromadb.PersistentClient(path=spec["path"], settings=cs)
    )
    col = client.get_collection(spec["name"], embedding_function=None)
    n = col.count()
    bm25 = BM25Index.load(Path(spec["bm25"]))
    manifest = Manifest("bench", "", "", "bench", spec["dim"], {}, 0, n, 0, {})
    snap = IndexSnapshot(manifest, col, None, bm25)
    open_s = time.perf_counter() - t0
    queries = json.loads(Path(spec["queries"]).read_text())
    dense_t, bm25_t, fused_t, tops = [], [], [], []
    for q in queries:
        bundle = QueryBundle(query_str=q["text"], embedding=q["vec"])
        qvec = np.asarray(q["vec"], dtype=np.float32)
        d = DenseRetriever(snap, 40, qvec)
        t = time.perf_counter()
        res = d.retrieve(bundle)
        dense_t.append(time.perf_counter() - t)
        tops.append([r.node.node_id for r in res[:10]])
        lex = KiwiBM25Retriever(snap, 40)
        lex.tokens = q["tokens"]
        t = time.perf_counter()
        lex.retrieve(bundle)
        bm25_t.append(time.perf_counter() - t)
        fusion = FusionRetriever(DenseRetriever(snap, 40, qvec), lex, (1.0, 0.3), 60, 10)
        t = time.perf_counter()
        fill(snap, fusion.retrieve(bundle)[:10])
        fused_t.append(time.perf_counter() - t)
    return {
        "count": n,
        "open_s": round(open_s, 3),
        "dense_s": latency_stats(dense_t),
        "bm25_s": latency_stats(bm25_t),
        "fused_s": latency_stats(fused_t),
        "rss_mb": mb(tree_rss(os.getpid())),
        "rss_start_mb": mb(rss0),
        "tops": tops,
    }


def _run_worker(spec: dict) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "evals.bench_scale", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_scale(
    services, sizes: list[int], modes: list[str], progress: bool = True
) -> dict[str, Any]:  # noqa: ANN001
    from assistant.components.vector_store import persistent_client
    from assistant.index import hnsw_configuration
    from assistant.korean.tokens import tokenize

    texts, tokens, vecs, queries = _real_material(services)
    hnsw = hnsw_configuration(services.settings)["hnsw"]
    result: dict[str, Any] = {
        "sizes": sizes,
        "modes": modes,
        "hnsw": hnsw,
        "dim": int(vecs.shape[1]),
        "vectors": f"{len(vecs)} real EmbeddingGemma vectors of the plan's chunks, the rest "
        "random unit vectors",
        "texts": "real chunk texts, recombined halves",
        "queries": f"{len(queries)} eval questions (real query embeddings)",
        "runs": [],
    }
    work = Path(tempfile.mkdtemp(prefix="assistant-scale-"))
    qfile = work / "queries.json"
    qfile.write_text(
        json.dumps(
            [{"text": t, "vec": [float(x) for x in v], "tokens": tokenize(t)} for t, v in queries]
        )
    )
    server = None
    try:
        for n in sizes:
            s_texts, s_tokens, s_vecs = synthesize(n, texts, tokens, vecs)
            exact_tops = [
                [f"c{int(i)}" for i in np.argsort(-(s_vecs @ v), kind="stable")[:10]]
                for _, v in queries
            ]
            for mode in modes:
                name = f"scale_{n}"
                bm25_dir = work / f"bm25-{n}-{mode}"
                if mode == "server":
                    if server is None:
                        port = free_port()
                        log = open(work / "chroma.log", "w")  # noqa: SIM115 - closed with the server
                        server = subprocess.Popen(
                            [
                                str(Path(sys.executable).with_name("chroma")),
                                "run",
                                "--path",
                                str(work / "server"),
                                "--host",
                                "127.0.0.1",
                                "--port",
                                str(port),
                            ],
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server)
                    import chromadb
                    from chromadb.config import Settings as ChromaSettings

                    client = chromadb.HttpClient(
                        host="127.0.0.1",
                        port=port,
                        settings=ChromaSettings(anonymized_telemetry=False),
                    )
                    spec = {"mode": "server", "port": port}
                else:
                    path = work / f"embedded-{n}"
                    client = persistent_client(path)
                    spec = {"mode": "embedded", "path": str(path)}
                if progress:
                    print(f"scale: building {n} chunks ({mode})…", flush=True)
                build = build_store(client, name, s_texts, s_tokens, s_vecs, hnsw, bm25_dir)
                del client
                spec.update(
                    name=name, bm25=str(bm25_dir), queries=str(qfile), dim=int(vecs.shape[1])
                )
                w = _run_worker(spec)
                recall = [
                    len(set(a) & set(b)) / 10
                    for a, b in zip(w.pop("tops"), exact_tops, strict=True)
                ]
                row = {
                    "chunks": n,
                    "mode": mode,
                    "build": build,
                    **w,
                    "recall@10_vs_exact": round(float(np.mean(recall)), 4),
                    "recall@10_min": round(float(np.min(recall)), 4),
                }
                if mode == "server" and server is not None:
                    row["server_rss_mb"] = mb(tree_rss(server.pid))
                result["runs"].append(row)
                if progress:
                    print(
                        f"scale: {n} {mode}: open {w['open_s']}s, dense p50 {w['dense_s']['p50']}s, "
                        f"fused p50 {w['fused_s']['p50']}s, RSS {w['rss_mb']} MB, recall@10 {row['recall@10_vs_exact']}",
                        flush=True,
                    )
    finally:
        if server is not None:
            stop_process(server)
        shutil.rmtree(work, ignore_errors=True)
    return result


if __name__ == "__main__":  # a worker process of the scale bench
    print(json.dumps(worker(json.loads(sys.argv[1]))))

"""Corpus stage: source files -> structured documents and passages (CorpusBundle)."""

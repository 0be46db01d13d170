"""What the assistant knows about the corpus, read from reviewed data files under ``corpus/``:
the MT glossary, the question lexicon (per language) and the records of the plan's tables."""

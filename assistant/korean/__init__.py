"""Everything Korean-specific: the MT glossary, tokenising, and number units (억/만)."""

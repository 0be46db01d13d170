"""Answer stage: language -> evidence -> prompt -> LLM -> citations -> verification."""

"""Backend factories: one per backend kind, picked by the `mode` setting."""

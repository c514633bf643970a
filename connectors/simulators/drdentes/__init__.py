"""A local Dr.DENTES REST API serving a generated export folder (see app.py)."""

"""``make bench``: news-pipeline against the I/O floor and a per-document Python version (see README.md here)."""

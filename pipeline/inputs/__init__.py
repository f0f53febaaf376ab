"""Getting raw files: ``dedi fetch``, the raw-folder rules (real, demo, empty, mixed) and a file's sha256."""

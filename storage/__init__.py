"""Git storage for cowiki: the bare repository is the single source of truth."""

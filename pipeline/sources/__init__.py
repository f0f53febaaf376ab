"""One module per source: its reader, its fetch spec and its official header map."""

"""Writing a release: atomic publication, the data dictionary, the generated docs."""

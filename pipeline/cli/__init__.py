"""The command line, ``dedi``: parses arguments and calls the other rooms; holds no logic of its own."""

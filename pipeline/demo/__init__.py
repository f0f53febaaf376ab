"""The deterministic SYNTHETIC demo generator (``dedi demo``). Nothing in a build imports it."""

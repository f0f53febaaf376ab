"""Reading a release: the warehouse reader, maps, explain, audit, scenarios, evaluations, the
explorer and the reports."""

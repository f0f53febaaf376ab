"""``dedi report`` and the evaluation report: static offline HTML pages."""

"""Grading a whole class: intake, isolated jobs, gradebook, feedback and summary."""

#: Where jobs run (``graders.batch.engines``): named here so that the command line offers
#: them without importing the engines.
ENGINES = ("local", "dask")

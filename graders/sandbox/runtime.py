"""Facts about the running worker that trusted probes need; set by the worker at start."""

STUDENT_ROOT = ""

"""Grading a whole class: intake, isolated jobs, gradebook, feedback and summary."""

"""Warm checks: ``nngrade check`` served by a grader that has already imported everything.

:mod:`graders.warm.client` is the check's side, :mod:`graders.warm.server` the grader's,
:mod:`graders.warm.key` what both must share, :mod:`graders.warm.place` where they meet.
"""

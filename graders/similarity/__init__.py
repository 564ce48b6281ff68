"""Code similarity across a class: which submissions share code, and where.

``nngrade similarity a3 SUBMISSIONS --out DIR`` reads a class as ``nngrade grade`` does,
turns each submission into normalised syntax tokens (normalise), fingerprints them with
k-grams and winnowing (fingerprint), subtracts the template, scores every pair and finds
groups (rank), and writes a self-contained HTML page and a CSV file (report); run ties
them together.
"""

"""Assignment 1 reference solution: linear systems with and without numpy."""

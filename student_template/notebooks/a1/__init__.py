"""Assignment 1: linear systems with and without numpy."""

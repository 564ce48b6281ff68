"""Autograding platforms: Gradescope bundles (GitHub Actions needs only the CLI)."""

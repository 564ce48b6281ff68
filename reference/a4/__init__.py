"""Assignment 4 reference solution: a PyTorch pipeline on MNIST."""

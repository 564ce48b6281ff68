"""Assignment 4: a PyTorch pipeline on MNIST."""

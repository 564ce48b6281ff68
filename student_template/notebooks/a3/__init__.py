"""Assignment 3: an MLP with backpropagation on MNIST."""

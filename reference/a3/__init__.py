"""Assignment 3 reference solution: an MLP with backpropagation on MNIST."""

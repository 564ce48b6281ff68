"""Assignment 2 reference solution: a softmax perceptron on MNIST."""

"""Assignment 2: a softmax perceptron on MNIST."""

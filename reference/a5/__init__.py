"""Assignment 5 reference solution: a DQN agent that lands LunarLander."""

"""Assignment 5: a deep RL agent that lands LunarLander."""

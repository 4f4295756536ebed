"""minigen's sampling distribution (minigen/objectives/autoregressive.py: sampling_distribution)."""
from minigen.objectives.autoregressive import sampling_distribution


def top_k_distribution(logits, temperature, k):
    return sampling_distribution(logits, temperature, k)

"""Neural networks: each file holds one ``nn.Module`` and nothing else."""

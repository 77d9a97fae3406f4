"""The best regular pentagon for the toy model of superposition (Elhage et al. 2022).

Five equally important features in two dimensions, each 0 with probability
0.95 and else uniform in [0, 1), reconstructed as ReLU(WᵀW x + b). Among
the regular pentagons (column k of W is r·(cos 2πk/5, sin 2πk/5), every
bias b), this finds the norm r and bias b of least expected loss
E[Σᵢ (xᵢ − x′ᵢ)²], by L-BFGS on two million fixed samples in float64.
ToySuperpositionTests checks that training finds a pentagon with this norm.

    python make_pentagon_reference.py     # prints r and b
"""
import math

import torch

torch.manual_seed(0)
n, sparsity, samples = 5, 0.95, 2_000_000
x = torch.rand(samples, n, dtype=torch.float64) * (torch.rand(samples, n, dtype=torch.float64) >= sparsity)
angles = torch.tensor([2 * math.pi * k / n for k in range(n)], dtype=torch.float64)
directions = torch.stack([angles.cos(), angles.sin()])          # [2, 5]
r = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.LBFGS([r, b], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14)


def loss():
    w = r * directions
    out = torch.relu(x @ w.T @ w + b)
    return ((x - out) ** 2).sum(1).mean()


def closure():
    optimizer.zero_grad()
    value = loss()
    value.backward()
    return value


optimizer.step(closure)
print(f"r = {r.item():.4f}, b = {b.item():.4f}, loss = {loss().item():.6f}")

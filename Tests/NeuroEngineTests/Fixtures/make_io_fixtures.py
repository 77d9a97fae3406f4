"""Writes the tiny reference files SafeTensorsTests and NPYTests read.

Run once with a Python that has torch, safetensors and numpy:
    python Tests/NeuroEngineTests/Fixtures/make_io_fixtures.py
The values here are repeated in the Swift tests; change both together.
"""
import os

import numpy as np
import torch
from safetensors.torch import save_file

here = os.path.dirname(os.path.abspath(__file__))

tensors = {
    "f32": torch.tensor([[1.5, -2.0, 3.25], [0.0, 1e-3, -7.0]], dtype=torch.float32),
    "f64": torch.tensor([3.141592653589793, -1e-300], dtype=torch.float64),
    # Exactly representable in half: 1, -2, 65504 (max), 2**-24 (smallest subnormal), inf.
    "f16": torch.tensor([1.0, -2.0, 65504.0, 2.0 ** -24, float("inf")], dtype=torch.float16),
    # Exactly representable in bfloat16: 1, -0.5, 2**100, 0.
    "bf16": torch.tensor([[1.0, -0.5], [2.0 ** 100, 0.0]], dtype=torch.bfloat16),
    "i64": torch.tensor([0, -1, 2 ** 40, -(2 ** 62)], dtype=torch.int64),
    "i32": torch.tensor([[7], [-2147483648], [2147483647]], dtype=torch.int32),
    "scalar": torch.tensor(42.0, dtype=torch.float32),
    "empty": torch.zeros((0, 3), dtype=torch.float32),
}
save_file(tensors, os.path.join(here, "io_reference.safetensors"), metadata={"format": "pt", "note": "x"})

np.save(os.path.join(here, "io_reference_f4.npy"), np.array([[1.0, 2.5, -3.0], [4.0, 0.125, 6.0]], dtype="<f4"))
np.save(os.path.join(here, "io_reference_i8.npy"), np.array([1, -2, 2 ** 40], dtype="<i8"))
# A 2x3 array stored column-major: data bytes are 0, 3, 1, 4, 2, 5.
np.save(os.path.join(here, "io_reference_fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))

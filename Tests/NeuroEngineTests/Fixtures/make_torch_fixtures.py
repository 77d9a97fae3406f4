#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that TorchParityTests.swift checks the engine against.

    python3 Tests/NeuroEngineTests/Fixtures/make_torch_fixtures.py      (needs torch and safetensors)

The outputs are committed, so CI and the Swift tests never need Python; run this again
only when a case is added or changed. Everything is seeded: the same torch version writes
the same bytes.

torch_ops.safetensors holds one entry per op case, named `<case>.<field>`:
    <case>.<input>       each input as the op receives it (float32 unless the case tests
                         float64; index, mask and condition inputs are int64)
    <case>.out           the op's output
    <case>.seed_grad     a random upstream gradient, shaped like out
    <case>.grad_<input>  the gradient of every differentiable input after out.backward(seed_grad)
The metadata holds one key, `fixture`, a JSON object: {"torch": version, "cases": [...]},
one object per case, in order:
    {"name", "op" (the family), "params" (axis, axes, keepdim, eps, spec, slice bounds, ...),
     "inputs" (input names in argument order), "grads" (inputs with a reference gradient),
     "transposed" (inputs stored transposed: both sides use input.transpose(-1, -2), to exercise
     strided views), "dtype"}
Every family also gets a float64 copy of its first case (suffix `_f64`) for the Double path.

The stored outputs and gradients are torch's float64 computation from the stored (float32)
inputs and seed, rounded once to the case's dtypes: the correctly rounded answer, so the Swift
test measures only the engine's own rounding. The op is also run by torch in float32, and the
script refuses a case where that result is not within half the Swift test's float32 tolerance
of the reference: such a case is ill-conditioned in float32 and would test rounding noise.

torch_optim.safetensors holds a toy regression (problem.X [8, 4], problem.Y [8, 3], initial
problem.W [4, 3] and problem.b [3]; loss = mean((X·W + b − Y)²)) trained for 10 steps by each
optimizer configuration in `runs` of its `fixture` metadata object ({"torch", "steps", "runs"}):
`<run>.losses` [10] (the loss before each step), `<run>.step<k>.W` / `.b` after each of
`steps` (1, 5 and 10), and the final optimizer state: `<run>.exp_avg.W`, `<run>.exp_avg_sq.W`, ... for
AdamW, `<run>.momentum_buffer.W`, ... for SGD with momentum. These are torch's own run in the
run's dtype (float32 runs are checked against the same run in float64, as above).
"""
import json
import pathlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = pathlib.Path(__file__).resolve().parent
# The Swift test's float32 tolerance (see TorchParityTests.swift); fixtures must sit well inside it.
RTOL32, ATOL32 = 1e-5, 1e-6
CONDITIONING_MARGIN = 2.0

torch.manual_seed(20240611)
torch.use_deterministic_algorithms(True)


def fixture_metadata(**fields):
    """Everything in one `fixture` metadata key (a JSON object): safetensors writes metadata
    keys in hash order, so a single key keeps the file's bytes the same from run to run."""
    return {"fixture": json.dumps(dict(torch=torch.__version__, **fields), separators=(",", ":"))}


# MARK: - Random inputs (always drawn in float64, then cast to the case's dtype)

def randn(*shape, scale=1.0):
    return torch.randn(shape, dtype=torch.float64) * scale


def positive(*shape):
    """Uniform in [0.5, 2): for log, sqrt and fractional powers."""
    return 0.5 + 1.5 * torch.rand(shape, dtype=torch.float64)


def away_from_zero(*shape):
    """Magnitude in [0.5, 1.5) with a random sign: for divisors and reciprocals."""
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).to(torch.float64)
    return sign * (0.5 + torch.rand(shape, dtype=torch.float64))


def ints(values):
    return torch.tensor(values, dtype=torch.int64)


def mask(*shape):
    return (torch.rand(shape) < 0.5).to(torch.int64)


# MARK: - Op families: torch's side of the table TorchParityTests.swift mirrors

def _axes(p):
    return None if p.get("axes") is None else tuple(p["axes"])


def _slice(x, p):
    index = [slice(None)] * x.dim()
    index[p["axis"]] = slice(p.get("start"), p.get("end"), p.get("step", 1))
    return x[tuple(index)]


def _index_select(x, idx, axis):
    axis = axis % x.dim()
    picked = torch.index_select(x, axis, idx.reshape(-1))
    return picked.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])


def _scalar_ops(x):
    y = (3.0 - (x + 1.25) * 2.0 - 0.5) / 4.0
    return y + 1.0 / (x * x + 1.0)


def _cross_entropy(logits, labels):
    # The grokking demo's loss: float32 logits, log-softmax and label pick in float64.
    logp = torch.log_softmax(logits.to(torch.float64), dim=-1)
    return -logp.gather(-1, labels.unsqueeze(-1)).mean()


DTYPES = {"float32": torch.float32, "float64": torch.float64}

OPS = {
    # Elementwise, broadcasting
    "add": lambda a, p: a["a"] + a["b"],
    "sub": lambda a, p: a["a"] - a["b"],
    "mul": lambda a, p: a["a"] * a["b"],
    "div": lambda a, p: a["a"] / a["b"],
    "maximum": lambda a, p: torch.maximum(a["a"], a["b"]),
    "minimum": lambda a, p: torch.minimum(a["a"], a["b"]),
    "where": lambda a, p: torch.where(a["cond"] != 0, a["a"], a["b"]),
    # Unary
    "neg": lambda a, p: -a["x"],
    "reciprocal": lambda a, p: torch.reciprocal(a["x"]),
    "exp": lambda a, p: torch.exp(a["x"]),
    "log": lambda a, p: torch.log(a["x"]),
    "sqrt": lambda a, p: torch.sqrt(a["x"]),
    "square": lambda a, p: torch.square(a["x"]),
    "abs": lambda a, p: torch.abs(a["x"]),
    "sin": lambda a, p: torch.sin(a["x"]),
    "cos": lambda a, p: torch.cos(a["x"]),
    "tanh": lambda a, p: torch.tanh(a["x"]),
    "sigmoid": lambda a, p: torch.sigmoid(a["x"]),
    "relu": lambda a, p: torch.relu(a["x"]),
    "gelu": lambda a, p: F.gelu(a["x"]),
    "gelu_tanh": lambda a, p: F.gelu(a["x"], approximate="tanh"),
    "pow": lambda a, p: torch.pow(a["x"], p["exponent"]),
    "clamp": lambda a, p: torch.clamp(a["x"], p["min"], p["max"]),
    "scalar_ops": lambda a, p: _scalar_ops(a["x"]),
    # Reductions
    "sum": lambda a, p: torch.sum(a["x"], dim=_axes(p), keepdim=p["keepdim"]),
    "mean": lambda a, p: torch.mean(a["x"], dim=_axes(p), keepdim=p["keepdim"]),
    "variance": lambda a, p: torch.var(a["x"], dim=_axes(p), correction=p["correction"], keepdim=p["keepdim"]),
    "norm": lambda a, p: torch.linalg.vector_norm(a["x"], 2, dim=_axes(p), keepdim=p["keepdim"]),
    "max_axis": lambda a, p: torch.max(a["x"], dim=p["axis"], keepdim=p["keepdim"]).values,
    "min_axis": lambda a, p: torch.min(a["x"], dim=p["axis"], keepdim=p["keepdim"]).values,
    "max_all": lambda a, p: torch.max(a["x"]),
    "min_all": lambda a, p: torch.min(a["x"]),
    "argmax": lambda a, p: torch.argmax(a["x"], dim=p["axis"], keepdim=p["keepdim"]),
    "logsumexp": lambda a, p: torch.logsumexp(a["x"], dim=p["axis"], keepdim=p["keepdim"]),
    "softmax": lambda a, p: torch.softmax(a["x"], dim=p["axis"]),
    "log_softmax": lambda a, p: torch.log_softmax(a["x"], dim=p["axis"]),
    "layer_norm": lambda a, p: F.layer_norm(a["x"], a["x"].shape[-1:], a.get("weight"), a.get("bias"), p["eps"]),
    # Products
    "matmul": lambda a, p: torch.matmul(a["a"], a["b"]),
    "outer": lambda a, p: torch.outer(a["a"], a["b"]),
    "einsum": lambda a, p: torch.einsum(p["spec"], *a.values()),
    # Indexing
    "index_select": lambda a, p: _index_select(a["x"], a["indices"], p["axis"]),
    "gather": lambda a, p: torch.gather(a["x"], p["axis"], a["indices"]),
    "scatter_add": lambda a, p: torch.scatter_add(a["x"], p["axis"], a["indices"], a["src"]),
    "index_add": lambda a, p: torch.index_add(a["x"], p["axis"], a["indices"], a["src"]),
    "masked_select": lambda a, p: torch.masked_select(a["x"], a["mask"] != 0),
    "concat": lambda a, p: torch.cat(list(a.values()), dim=p["axis"]),
    "stack": lambda a, p: torch.stack(list(a.values()), dim=p["axis"]),
    # Shape
    "reshape": lambda a, p: a["x"].reshape(p["shape"]),
    "flatten": lambda a, p: torch.flatten(a["x"], p["start"], p["end"]),
    "permute": lambda a, p: a["x"].permute(p["order"]),
    "transpose": lambda a, p: a["x"].transpose(*p["dims"]),
    "slice": lambda a, p: _slice(a["x"], p),
    "select": lambda a, p: a["x"].select(p["axis"], p["index"]),
    "expand": lambda a, p: a["x"].expand(p["shape"]),
    "unsqueeze": lambda a, p: a["x"].unsqueeze(p["axis"]),
    "squeeze": lambda a, p: a["x"].squeeze(p["axis"]),
    "cast": lambda a, p: a["x"].to(DTYPES[p["dtype"]]),
    # Composite
    "cross_entropy": lambda a, p: _cross_entropy(a["logits"], a["labels"]),
}

# Families whose automatic float64 copy would test nothing new.
NO_F64_COPY = {"cast", "cross_entropy"}


# MARK: - Cases

CASES = []


def case(name, op, inputs, params=None, dtype="float32", transposed=(), input_dtypes=None):
    """Registers one case; `inputs` maps names to float64 (or int64) tensors in argument order."""
    CASES.append(dict(name=name, op=op, inputs=inputs, params=params or {}, dtype=dtype,
                      transposed=list(transposed), input_dtypes=input_dtypes or {}))


def binary_cases():
    for op in ["add", "sub", "mul", "div", "maximum", "minimum"]:
        divisor = away_from_zero if op == "div" else randn
        case(f"{op}_same", op, {"a": randn(3, 4), "b": divisor(3, 4)})
        case(f"{op}_bcast_last", op, {"a": randn(2, 3, 4), "b": divisor(4)})
        case(f"{op}_bcast_both", op, {"a": randn(3, 1), "b": divisor(1, 4)})
    case("mul_rank0", "mul", {"a": randn(2, 3), "b": randn()})
    case("add_mixed_dtype", "add", {"a": randn(3, 4), "b": randn(4)}, input_dtypes={"b": "float64"})
    case("sub_strided", "sub", {"a": randn(4, 3), "b": randn(3, 4)}, transposed=["a"])
    case("div_strided_bcast", "div", {"a": randn(2, 4, 3), "b": away_from_zero(3, 1)}, transposed=["a"])
    case("where_bcast", "where", {"cond": mask(3, 1), "a": randn(3, 4), "b": randn(4)})
    case("where_rank0", "where", {"cond": mask(3, 4), "a": randn(3, 4), "b": randn()})


def unary_cases():
    domains = {"log": positive, "sqrt": positive, "reciprocal": away_from_zero}
    scales = {"gelu": 2.0, "gelu_tanh": 2.0, "sigmoid": 2.0, "tanh": 1.5, "exp": 1.5, "sin": 2.0, "cos": 2.0}
    for op in ["neg", "reciprocal", "exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "sigmoid",
               "relu", "gelu", "gelu_tanh", "scalar_ops"]:
        draw = domains.get(op, lambda *s: randn(*s, scale=scales.get(op, 1.0)))
        case(op, op, {"x": draw(2, 3, 4)})
        case(f"{op}_strided", op, {"x": draw(4, 3)}, transposed=["x"])
    case("pow_cube", "pow", {"x": randn(2, 3, 4)}, {"exponent": 3.0})
    case("pow_fractional", "pow", {"x": positive(3, 4)}, {"exponent": 1.5})
    case("pow_negative", "pow", {"x": positive(5)}, {"exponent": -0.5})
    case("clamp", "clamp", {"x": randn(2, 3, 4)}, {"min": -0.5, "max": 0.7})
    case("clamp_strided", "clamp", {"x": randn(4, 3)}, {"min": -1.0, "max": 0.25}, transposed=["x"])


def reduction_cases():
    x = lambda: randn(2, 3, 4)
    for op in ["sum", "mean"]:
        case(f"{op}_axis1", op, {"x": x()}, {"axes": [1], "keepdim": False})
        case(f"{op}_axes02_keep", op, {"x": x()}, {"axes": [0, 2], "keepdim": True})
        case(f"{op}_last_keep", op, {"x": x()}, {"axes": [-1], "keepdim": True})
        case(f"{op}_all", op, {"x": x()}, {"axes": None, "keepdim": False})
    case("sum_strided_axis0", "sum", {"x": randn(3, 4, 2)}, {"axes": [0], "keepdim": False}, transposed=["x"])
    case("variance_axis2", "variance", {"x": x()}, {"axes": [2], "correction": 1, "keepdim": False})
    case("variance_axes01_pop_keep", "variance", {"x": x()}, {"axes": [0, 1], "correction": 0, "keepdim": True})
    case("variance_all", "variance", {"x": x()}, {"axes": None, "correction": 1, "keepdim": False})
    case("norm_last", "norm", {"x": x()}, {"axes": [-1], "keepdim": False})
    case("norm_axes01_keep", "norm", {"x": x()}, {"axes": [0, 1], "keepdim": True})
    case("norm_all", "norm", {"x": x()}, {"axes": None, "keepdim": False})
    case("max_axis1", "max_axis", {"x": x()}, {"axis": 1, "keepdim": False})
    case("max_last_keep", "max_axis", {"x": x()}, {"axis": -1, "keepdim": True})
    case("min_axis0", "min_axis", {"x": x()}, {"axis": 0, "keepdim": False})
    case("min_axis2_keep", "min_axis", {"x": x()}, {"axis": 2, "keepdim": True})
    case("max_all", "max_all", {"x": x()})
    case("min_all", "min_all", {"x": x()})
    case("argmax_axis1", "argmax", {"x": x()}, {"axis": 1, "keepdim": False})
    case("argmax_last_keep", "argmax", {"x": x()}, {"axis": -1, "keepdim": True})
    case("logsumexp_axis2", "logsumexp", {"x": x()}, {"axis": 2, "keepdim": False})
    case("logsumexp_axis0_keep", "logsumexp", {"x": x()}, {"axis": 0, "keepdim": True})
    for op in ["softmax", "log_softmax"]:
        for axis in [-1, 0, 1]:
            case(f"{op}_axis{axis}".replace("-", "m"), op, {"x": randn(2, 3, 4, scale=2.0)}, {"axis": axis})
        case(f"{op}_strided", op, {"x": randn(5, 3, scale=2.0)}, {"axis": -1}, transposed=["x"])
    case("layer_norm_affine", "layer_norm", {"x": randn(2, 3, 5), "weight": randn(5), "bias": randn(5)}, {"eps": 1e-5})
    case("layer_norm_plain", "layer_norm", {"x": randn(2, 3, 5)}, {"eps": 1e-5})
    case("layer_norm_weight_only_eps", "layer_norm", {"x": randn(4, 6, scale=0.1), "weight": randn(6)}, {"eps": 1e-3})


def product_cases():
    case("matmul_2d", "matmul", {"a": randn(3, 5), "b": randn(5, 4)})
    case("matmul_batched", "matmul", {"a": randn(2, 3, 5), "b": randn(5, 4)})
    case("matmul_batched_both", "matmul", {"a": randn(2, 3, 4), "b": randn(2, 4, 5)})
    case("matmul_batched_broadcast", "matmul", {"a": randn(2, 1, 3, 4), "b": randn(5, 4, 2)})
    case("matmul_vec_mat", "matmul", {"a": randn(5), "b": randn(5, 4)})
    case("matmul_mat_vec", "matmul", {"a": randn(2, 3, 5), "b": randn(5)})
    case("matmul_vec_batched", "matmul", {"a": randn(4), "b": randn(2, 4, 3)})
    case("matmul_dot", "matmul", {"a": randn(5), "b": randn(5)})
    case("matmul_transposed", "matmul", {"a": randn(5, 3), "b": randn(4, 5)}, transposed=["a", "b"])
    # Above the engine's small-product limit, so this one runs on BLAS gemm.
    case("matmul_blas", "matmul", {"a": randn(16, 16), "b": randn(16, 12)})
    case("matmul_blas_transposed", "matmul", {"a": randn(2, 16, 16), "b": randn(12, 16)}, transposed=["b"])
    case("outer", "outer", {"a": randn(3), "b": randn(4)})
    case("einsum_bpd_dh", "einsum", {"a": randn(2, 3, 4), "b": randn(4, 5)}, {"spec": "bpd,dh->bph"})
    case("einsum_bhqd_bhkd", "einsum", {"a": randn(2, 2, 3, 4), "b": randn(2, 2, 5, 4)}, {"spec": "bhqd,bhkd->bhqk"})
    case("einsum_sum_rows", "einsum", {"a": randn(3, 4)}, {"spec": "ij->j"})
    case("einsum_permute", "einsum", {"a": randn(2, 3, 4)}, {"spec": "abc->cab"})
    case("einsum_implicit", "einsum", {"a": randn(3, 4), "b": randn(5, 4)}, {"spec": "ik,jk"})
    case("einsum_summed_label", "einsum", {"a": randn(3, 4, 2), "b": randn(4, 5)}, {"spec": "ijx,jk->ik"})


def index_cases():
    case("index_select_rows", "index_select", {"x": randn(5, 3), "indices": ints([1, 3, 1, 0])}, {"axis": 0})
    case("index_select_2d_indices", "index_select", {"x": randn(2, 5, 3), "indices": ints([[4, 0], [4, 2]])}, {"axis": 1})
    case("index_select_negative_axis", "index_select", {"x": randn(3, 4), "indices": ints([3, 3, 0])}, {"axis": -1})
    case("gather_last", "gather", {"x": randn(3, 5), "indices": ints([[0, 4, 4, 1], [2, 2, 2, 3], [1, 0, 4, 1]])}, {"axis": -1})
    case("gather_axis0", "gather", {"x": randn(4, 3), "indices": torch.randint(0, 4, (6, 3))}, {"axis": 0})
    case("scatter_add_last", "scatter_add",
         {"x": randn(3, 5), "indices": ints([[0, 4, 4, 1], [2, 2, 2, 3], [1, 0, 4, 1]]), "src": randn(3, 4)}, {"axis": 1})
    case("scatter_add_axis0", "scatter_add",
         {"x": randn(4, 3), "indices": torch.randint(0, 4, (5, 3)), "src": randn(5, 3)}, {"axis": 0})
    case("scatter_add_strided_src", "scatter_add",
         {"x": randn(3, 5), "indices": ints([[0, 4, 4, 1], [2, 2, 2, 3], [1, 0, 4, 1]]), "src": randn(4, 3)},
         {"axis": 1}, transposed=["src"])
    case("index_add_rows", "index_add", {"x": randn(5, 3), "indices": ints([1, 3, 1, 0]), "src": randn(4, 3)}, {"axis": 0})
    case("index_add_axis1", "index_add", {"x": randn(2, 4), "indices": ints([2, 0, 2]), "src": randn(2, 3)}, {"axis": 1})
    case("masked_select", "masked_select", {"x": randn(3, 4), "mask": mask(3, 4)})
    case("masked_select_bcast", "masked_select", {"x": randn(3, 4), "mask": ints([1, 0, 1, 1])})
    case("concat_axis1", "concat", {"t0": randn(2, 1, 3), "t1": randn(2, 3, 3), "t2": randn(2, 2, 3)}, {"axis": 1})
    case("concat_axis0", "concat", {"t0": randn(1, 4), "t1": randn(3, 4)}, {"axis": 0})
    case("concat_last", "concat", {"t0": randn(3, 2), "t1": randn(3, 1)}, {"axis": -1})
    case("stack_axis0", "stack", {"t0": randn(3, 4), "t1": randn(3, 4)}, {"axis": 0})
    case("stack_last", "stack", {"t0": randn(3, 4), "t1": randn(3, 4), "t2": randn(3, 4)}, {"axis": -1})
    case("stack_middle", "stack", {"t0": randn(2, 3), "t1": randn(2, 3)}, {"axis": 1})


def shape_cases():
    case("reshape_infer", "reshape", {"x": randn(2, 3, 4)}, {"shape": [6, -1]})
    case("reshape_strided", "reshape", {"x": randn(4, 3)}, {"shape": [12]}, transposed=["x"])
    case("flatten_tail", "flatten", {"x": randn(2, 3, 4)}, {"start": 1, "end": 2})
    case("permute", "permute", {"x": randn(2, 3, 4)}, {"order": [2, 0, 1]})
    case("transpose_outer", "transpose", {"x": randn(2, 3, 4)}, {"dims": [0, 2]})
    case("slice_step2", "slice", {"x": randn(5, 6)}, {"axis": 1, "start": 1, "end": 5, "step": 2})
    case("slice_negative_start", "slice", {"x": randn(5, 6)}, {"axis": 0, "start": -3, "end": None, "step": 1})
    case("slice_step3_open", "slice", {"x": randn(5, 7)}, {"axis": 1, "start": None, "end": None, "step": 3})
    case("slice_clamped_end", "slice", {"x": randn(5, 2)}, {"axis": 0, "start": 1, "end": 100, "step": 2})
    case("slice_strided_input", "slice", {"x": randn(6, 4)}, {"axis": 1, "start": 1, "end": -1, "step": 2},
         transposed=["x"])
    case("select_negative", "select", {"x": randn(3, 4, 2)}, {"axis": 1, "index": -1})
    case("select_first_axis", "select", {"x": randn(3, 4, 2)}, {"axis": 0, "index": 1})
    case("expand_column", "expand", {"x": randn(3, 1)}, {"shape": [2, 3, 4]})
    case("expand_row", "expand", {"x": randn(4)}, {"shape": [3, 4]})
    case("unsqueeze_last", "unsqueeze", {"x": randn(3, 4)}, {"axis": -1})
    case("unsqueeze_middle", "unsqueeze", {"x": randn(3, 4)}, {"axis": 1})
    case("unsqueeze_negative_front", "unsqueeze", {"x": randn(3, 4)}, {"axis": -3})
    case("squeeze_middle", "squeeze", {"x": randn(3, 1, 4)}, {"axis": 1})
    case("squeeze_negative", "squeeze", {"x": randn(3, 1, 4)}, {"axis": -2})
    case("cast_f32_to_f64", "cast", {"x": randn(3, 4)}, {"dtype": "float64"})
    case("cast_f64_to_f32", "cast", {"x": randn(3, 4)}, {"dtype": "float32"}, dtype="float64")


def composite_cases():
    case("cross_entropy", "cross_entropy", {"logits": randn(6, 5, scale=3.0), "labels": ints([0, 4, 2, 2, 1, 4])})


# MARK: - Running a case

def leaves_for(spec, dtype_override=None):
    leaves = {}
    for name, value in spec["inputs"].items():
        if value.is_floating_point():
            dtype = DTYPES[spec["input_dtypes"].get(name, spec["dtype"])]
            leaves[name] = value.to(dtype_override or dtype).detach().requires_grad_(True)
        else:
            leaves[name] = value
    return leaves


def forward(spec, leaves):
    """Runs the op, transposing the inputs listed in `transposed` first."""
    args = {n: (t.transpose(-1, -2) if n in spec["transposed"] else t) for n, t in leaves.items()}
    return OPS[spec["op"]](args, spec["params"])


def evaluate(spec, leaves, seed):
    """The op's output and, for a floating-point output, every input gradient after backward(seed)."""
    out = forward(spec, leaves)
    grads = {}
    if out.is_floating_point():
        out.backward(seed.to(out.dtype))
        grads = {n: t.grad for n, t in leaves.items() if t.is_floating_point() and t.grad is not None}
    return out.detach(), grads


def check_float32(name, what, value, reference):
    """torch's own float32 result must sit well inside the Swift test's tolerance of the reference.
    Otherwise the case is ill-conditioned in float32 and would test rounding noise."""
    if value.dtype != torch.float32:
        return
    error = (value.double() - reference.double()).abs()
    allowed = (ATOL32 + RTOL32 * reference.double().abs()) / CONDITIONING_MARGIN
    worst = (error / allowed).max().item() if error.numel() else 0.0
    if worst > 1:
        raise SystemExit(f"{name}.{what}: float32 result is ill-conditioned ({worst:.2f}x the allowed error)")


def run_case(spec, tensors, manifest):
    name = spec["name"]
    leaves = leaves_for(spec)
    with torch.no_grad():
        probe = forward(spec, leaves)      # the output's shape and dtype, to draw the seed
    seed = randn(*probe.shape).to(probe.dtype) if probe.is_floating_point() else None

    # The op as the engine runs it (float32 where the case is float32) ...
    out, grads = evaluate(spec, leaves, seed)
    # ... and the reference: the same computation in float64 from the same float32-rounded
    # inputs and seed, rounded once to the case's dtypes.
    exact_leaves = {n: (t.detach().double().requires_grad_(True) if t.is_floating_point() else t)
                    for n, t in leaves.items()}
    exact_out, exact_grads = evaluate(spec, exact_leaves, seed)
    reference = exact_out.to(out.dtype)
    reference_grads = {n: exact_grads[n].to(g.dtype) for n, g in grads.items()}
    if not out.is_floating_point():
        assert torch.equal(out, reference), f"{name}: integer output depends on precision"
    check_float32(name, "out", out, reference)
    for n, g in grads.items():
        check_float32(name, f"grad_{n}", g, reference_grads[n])

    for n, t in leaves.items():
        tensors[f"{name}.{n}"] = t.detach()
    tensors[f"{name}.out"] = reference
    if seed is not None:
        tensors[f"{name}.seed_grad"] = seed
    for n, g in reference_grads.items():
        tensors[f"{name}.grad_{n}"] = g
    manifest.append(dict(name=name, op=spec["op"], params=spec["params"], inputs=list(leaves),
                         grads=list(grads), transposed=spec["transposed"], dtype=spec["dtype"]))


def float64_copies():
    """A float64 copy of the first case of every family (same values, new seed)."""
    first = {}
    for spec in CASES:
        first.setdefault(spec["op"], spec)
    for op, spec in first.items():
        if op in NO_F64_COPY:
            continue
        copy = dict(spec, name=spec["name"] + "_f64", dtype="float64", input_dtypes={})
        CASES.append(copy)


def write_ops():
    for group in [binary_cases, unary_cases, reduction_cases, product_cases, index_cases, shape_cases,
                  composite_cases]:
        group()
    float64_copies()
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names), "case names must be unique"
    missing = set(OPS) - {c["op"] for c in CASES}
    assert not missing, f"families without a case: {sorted(missing)}"

    tensors, manifest = {}, []
    for spec in CASES:
        run_case(spec, tensors, manifest)
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}   # no shared storage
    path = HERE / "torch_ops.safetensors"
    save_file(tensors, str(path), metadata=fixture_metadata(cases=manifest))
    families = sorted({c["op"] for c in manifest})
    print(f"{path.name}: {len(manifest)} cases in {len(families)} families, {len(tensors)} tensors, "
          f"{path.stat().st_size} bytes")


# MARK: - Optimizers

RUNS = [
    # The grokking demo's settings.
    dict(name="adamw_grokking", optimizer="AdamW", lr=1e-2, weight_decay=1.0, betas=[0.9, 0.98], eps=1e-8,
         dtype="float32"),
    dict(name="adamw_default", optimizer="AdamW", lr=1e-2, weight_decay=0.01, betas=[0.9, 0.999], eps=1e-8,
         dtype="float32"),
    dict(name="adamw_f64", optimizer="AdamW", lr=1e-2, weight_decay=1.0, betas=[0.9, 0.98], eps=1e-8,
         dtype="float64"),
    dict(name="sgd_momentum", optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01,
         nesterov=False, dtype="float32"),
    dict(name="sgd_nesterov", optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01,
         nesterov=True, dtype="float32"),
    dict(name="sgd_dampening", optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01,
         nesterov=False, dtype="float32"),
    dict(name="sgd_plain", optimizer="SGD", lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
         nesterov=False, dtype="float32"),
    dict(name="sgd_f64", optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01,
         nesterov=True, dtype="float64"),
]
STEPS = 10
RECORDED_STEPS = [1, 5, 10]


def make_optimizer(run, params):
    if run["optimizer"] == "AdamW":
        return torch.optim.AdamW(params, lr=run["lr"], betas=tuple(run["betas"]), eps=run["eps"],
                                 weight_decay=run["weight_decay"], foreach=False)
    return torch.optim.SGD(params, lr=run["lr"], momentum=run["momentum"], dampening=run["dampening"],
                           weight_decay=run["weight_decay"], nesterov=run["nesterov"], foreach=False)


def train(run, problem, dtype):
    """10 steps on the toy regression; returns the recorded tensors (and the optimizer state)."""
    X, Y = problem["X"].to(dtype), problem["Y"].to(dtype)
    params = {n: problem[n].to(dtype).clone().requires_grad_(True) for n in ("W", "b")}
    opt = make_optimizer(run, list(params.values()))
    record, losses = {}, []
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        loss = ((X @ params["W"] + params["b"] - Y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        opt.step()
        if step in RECORDED_STEPS:
            for n, p in params.items():
                record[f"step{step}.{n}"] = p.detach().clone()
    record["losses"] = torch.tensor(losses, dtype=dtype)
    for n, p in params.items():
        for key, value in opt.state[p].items():
            if key != "step" and value is not None:
                record[f"{key}.{n}"] = value.detach().clone()
    return record


def write_optim():
    problem = {"X": randn(8, 4), "Y": randn(8, 3), "W": randn(4, 3, scale=0.5), "b": randn(3, scale=0.1)}
    problem = {n: t.to(torch.float32) for n, t in problem.items()}   # float32-exact values for every run
    tensors = {f"problem.{n}": t for n, t in problem.items()}
    for run in RUNS:
        dtype = DTYPES[run["dtype"]]
        record = train(run, problem, dtype)
        if dtype == torch.float32:
            exact = train(run, problem, torch.float64)
            for key, value in record.items():
                check_float32(run["name"], key, value, exact[key])
        tensors.update({f"{run['name']}.{k}": v for k, v in record.items()})
    path = HERE / "torch_optim.safetensors"
    save_file(tensors, str(path), metadata=fixture_metadata(steps=RECORDED_STEPS, runs=RUNS))
    print(f"{path.name}: {len(RUNS)} runs, {len(tensors)} tensors, {path.stat().st_size} bytes")


if __name__ == "__main__":
    write_ops()
    write_optim()

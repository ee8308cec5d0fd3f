"""Reference values from PyTorch for tests/pytorch.rs: the library's layers are checked
against what PyTorch computes for the same inputs, forward and backward.

Run (needs PyTorch: `pip install torch` in a virtual environment; not part of CI):

    python tests/pytorch/reference.py > tests/data/pytorch-reference.json

Every input is a fixed formula of its index (no random generator), so the file is the
same wherever it is made, up to PyTorch's own rounding. The output records PyTorch's
version. Gradients are of the loss sum(output * r) for a fixed r, as in the library's
gradient checks.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)


def values(shape, seed):
    """A fixed tensor of the given shape: a smooth, sign-changing formula of the index."""
    n = math.prod(shape)
    return torch.tensor(
        [math.sin(0.7 * i + seed) * (1.0 + 0.3 * math.cos(1.3 * i + 2 * seed)) for i in range(n)],
        dtype=torch.float32,
    ).reshape(shape)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, module, shape, seed, mode="train", scale=1.0, steps=1):
    """Runs `module` forward (after `steps - 1` forward passes to move running statistics)
    and backward; records input, output, gradients, parameters and buffers."""
    x = (values(shape, seed) * scale).requires_grad_(True)
    module.train(mode == "train")
    for _ in range(steps - 1):
        module(x.detach())
    y = module(x)
    r = values(tuple(y.shape), seed + 100)
    (y * r).sum().backward()
    out = {
        "name": name,
        "mode": mode,
        "input_shape": list(shape),
        "input": flat(x),
        "output_shape": list(y.shape),
        "output": flat(y),
        "grad_output": flat(r),
        "grad_input": flat(x.grad),
        "params": {k: flat(p) for k, p in module.named_parameters()},
        "param_grads": {k: flat(p.grad) for k, p in module.named_parameters()},
        "buffers": {k: flat(b) for k, b in module.named_buffers() if b.dtype == torch.float32},
    }
    return out


def with_params(module, seed):
    """Sets every parameter to a fixed formula (gamma near 1, the rest small)."""
    with torch.no_grad():
        for i, (name, p) in enumerate(module.named_parameters()):
            v = values(tuple(p.shape), seed + 10 * i)
            p.copy_(1.0 + 0.5 * v if name == "weight" and p.dim() == 1 else 0.5 * v)
    return module


cases = []
# Local response normalization, AlexNet's constants in PyTorch's parameters (alpha = 5e-4).
cases.append(case("lrn_alexnet", torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), (2, 7, 3, 3), 1, scale=20.0))
cases.append(case("lrn_strong", torch.nn.LocalResponseNorm(3, alpha=1.5, beta=0.75, k=1.0), (2, 5, 2, 3), 2))
# Batch normalization: images and features, training (two passes: running statistics move
# twice) and evaluation with the statistics so reached.
for layout, module, shape in [
    ("bn2d", torch.nn.BatchNorm2d(3), (4, 3, 3, 2)),
    ("bn1d", torch.nn.BatchNorm1d(5), (6, 5)),
]:
    with_params(module, 3)
    cases.append(case(f"{layout}_train", module, shape, 4, steps=2))
    module.zero_grad()
    cases.append(case(f"{layout}_eval", module, shape, 5, mode="eval"))
# Layer normalization over the units of vectors and of images.
cases.append(case("layernorm_vectors", with_params(torch.nn.LayerNorm([6]), 6), (3, 6), 7))
cases.append(case("layernorm_images", with_params(torch.nn.LayerNorm([2, 3, 3]), 8), (2, 2, 3, 3), 9))
# SELU.
cases.append(case("selu", torch.nn.SELU(), (3, 7), 10, scale=2.0))
# Pooling with padding and rounding as PyTorch has them.
cases.append(case("maxpool_3s2p1", torch.nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 6), 11))
cases.append(case("maxpool_3s2_ceil", torch.nn.MaxPool2d(3, stride=2, ceil_mode=True), (1, 2, 8, 7), 12))
cases.append(case("avgpool_3s2p1", torch.nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6), 13))
cases.append(case("avgpool_3s2p1_exclude", torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 2, 7, 6), 14))
cases.append(case("avgpool_2s2_ceil", torch.nn.AvgPool2d(2, stride=2, ceil_mode=True), (1, 2, 5, 5), 15))
# A strided convolution that does not tile (rounded down) and a projection shortcut's 1x1.
cases.append(case("conv_3s2p1", with_params(torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), 16), (2, 2, 6, 7), 17))
cases.append(case("conv_1x1s2_nobias", with_params(torch.nn.Conv2d(2, 4, 1, stride=2, bias=False), 18), (1, 2, 6, 6), 19))

print(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1))

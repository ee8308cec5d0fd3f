"""The structure of torchvision's reference networks, for tests/architectures.rs: for each
model, its parameters and buffers (name and shape, in registration order), its output
shape for one 224 x 224 image, and its multiply-accumulates counted by PyTorch's own
FLOP counter (FLOPs / 2: convolutions and matrix products).

Run (needs PyTorch and torchvision in a virtual environment; not part of CI):

    python tests/pytorch/architectures.py > tests/data/torchvision-architectures.json
"""
import json

import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode
from torchvision import models

NETWORKS = {
    "alexnet": lambda: models.alexnet(),
    "vgg16": lambda: models.vgg16(),
    "googlenet": lambda: models.googlenet(aux_logits=False, init_weights=False),
    "resnet18": lambda: models.resnet18(),
    "resnet34": lambda: models.resnet34(),
    "resnet50": lambda: models.resnet50(),
    "resnet152": lambda: models.resnet152(),
}

out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "networks": {}}
for name, build in NETWORKS.items():
    net = build().eval()
    x = torch.zeros(1, 3, 224, 224)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = net(x)
    out["networks"][name] = {
        "params": sum(p.numel() for p in net.parameters()),
        "parameters": [[n, list(p.shape)] for n, p in net.named_parameters()],
        "buffers": [[n, list(b.shape)] for n, b in net.named_buffers() if b.dtype == torch.float32],
        "output": list(y.shape),
        "macs": counter.get_total_flops() // 2,
    }
print(json.dumps(out, indent=1))

"""Seeded, bit-reproducible training of the small classifiers behind the image probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def train_classifier(make_net: Callable[[], Any], x: Any, y: Any, *, seed: int, epochs: int, batch: int,
                     lr: float, weight_decay: float = 0.0) -> Any:
    """Train ``make_net()`` with Adam on cross-entropy over ``(x, y)`` torch tensors; returns the net.

    Single-threaded while training (bit-reproducible reductions); the global seed is set before
    the net is built (initial weights) and a separate seeded generator shuffles the batches.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = make_net()
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        for _ in range(epochs):
            perm = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), batch):
                b = perm[i : i + batch]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(x[b]), y[b]).backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return net

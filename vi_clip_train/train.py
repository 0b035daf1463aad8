"""`python -m vi_clip_train.train`: contrastive training of a vi_clip model on image-caption data.

Validation R@K after every epoch; the best epoch is written as a checkpoint to --out, the last one
(with optimiser state, for --resume) to --state-dir.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vi_clip import DualEncoder, create_model, is_checkpoint_dir, resolve_device, save_checkpoint
from vi_clip.checkpoint import write_calibration
from vi_clip.config import deep_merge
from vi_clip.registry import get_model_config
from vi_clip.text import prepare_text, strip_diacritics
from vi_clip.tokenizer import BYTELEVEL, train_bytelevel_tokenizer

from .augment import AUGMENTATIONS, ImageAugmenter
from .batches import NeighbourBatches
from .calibrate import calibrate, no_match_texts
from .captions import CaptionSampler, CaptionSampling
from .data import ImageRecord, load_records, preload_images
from .embed import embed_images, embed_texts
from .metrics import retrieval_metrics
from .optim import contrastive_loss, no_match_loss, param_groups, warmup_cosine
from .tags import TagHead, TagVocab, TowerFeatures, tag_loss

STATE_FILE = "training_state.pt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="vi-tiny", help="registered name, or a checkpoint dir to fine-tune")
    p.add_argument(
        "--model-overrides",
        type=json.loads,
        default={},
        help='JSON merged into the architecture, e.g. {"text": {"hf_model": "/models/phobert-base-v2"}}',
    )
    p.add_argument("--train-data", type=Path, required=True, help=".json (COCO-style), .jsonl or .csv")
    p.add_argument("--val-data", type=Path, required=True)
    p.add_argument("--image-root", type=Path, default=None, help="default: each caption file's folder")
    p.add_argument("--out", type=Path, required=True, help="best checkpoint goes here")
    p.add_argument(
        "--state-dir", type=Path, default=None, help="last epoch + optimiser (default: <out>.state)"
    )
    p.add_argument("--resume", action="store_true", help="continue from --state-dir")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimiser step")
    p.add_argument("--lr-image", type=float, default=1e-4)
    p.add_argument("--lr-text", type=float, default=1e-5)
    p.add_argument("--lr-head", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--freeze-image", action="store_true")
    p.add_argument("--freeze-text", action="store_true")
    p.add_argument("--strip-diacritics-prob", type=float, default=0.3, help="captions typed without accents")
    p.add_argument(
        "--caption-full-prob",
        type=float,
        default=0.25,
        help="ViShapes-vi: full description, else a partial query",
    )
    p.add_argument(
        "--caption-crop-prob", type=float, default=0.5, help="real captions: keep a run of clauses"
    )
    p.add_argument("--caption-word-dropout", type=float, default=0.05, help="real captions: drop each word")
    p.add_argument(
        "--caption-prefix-prob", type=float, default=0.2, help='real captions: add "tìm", "ảnh có"...'
    )
    p.add_argument(
        "--caption-foil-prob",
        type=float,
        default=0.0,
        help="a near-miss negative text per image (one shape, colour or count changed)",
    )
    p.add_argument(
        "--caption-foil-rebind",
        type=float,
        default=0.0,
        help="share of foils that re-bind the scene's own colours, shapes and sizes (counts one off)",
    )
    p.add_argument(
        "--aux-tag-weight",
        type=float,
        default=0.0,
        help="weight of the auxiliary tag loss on the image embedding (0: off; see tags.py)",
    )
    p.add_argument("--aux-tag-min-count", type=int, default=5, help="tags seen fewer times are ignored")
    p.add_argument(
        "--batch-neighbours",
        type=float,
        default=0.0,
        help="share of each batch drawn as look-alikes of its images (shared tags; see batches.py)",
    )
    p.add_argument("--batch-neighbour-group", type=int, default=8, help="look-alikes drawn per anchor image")
    p.add_argument("--augment", choices=sorted(AUGMENTATIONS), default="standard", help="image augmentation")
    p.add_argument(
        "--no-match-texts",
        default="none",
        help='texts that match no image: a file (one per line), "vishapes" (built-in sets) or "none"',
    )
    p.add_argument("--no-match-weight", type=float, default=1.0)
    p.add_argument("--no-match-margin", type=float, default=0.1, help="cosine they must stay under")
    p.add_argument("--no-match-batch", type=int, default=32, help="no-match texts per step")
    p.add_argument(
        "--tokenizer-vocab", type=int, default=0, help="byte-level BPE size (0: the tower's vocab)"
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="auto: bf16 on CUDA, fp32 on CPU",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--workers", type=int, default=2, help="image decoding threads")
    p.add_argument("--config", type=Path, default=None, help="JSON of option values; flags given win")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path, default=None)
    config = pre.parse_known_args(argv)[0].config
    if config is not None:
        raw = json.loads(config.read_text(encoding="utf-8"))
        values = {k.replace("-", "_"): v for k, v in raw.items()}  # "train-data" as on the command line
        options = {a.dest: a for a in p._actions}
        unknown = set(values) - set(options)
        if unknown:
            p.error(f"{config}: unknown options {sorted(unknown)}")
        for key in values:
            options[key].required = False
        p.set_defaults(**values)  # argparse applies each option's type to string defaults
    return p.parse_args(argv)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def wants_bf16(device: torch.device, precision: str) -> bool:
    """bf16 autocast on CUDA by default; on CPU only when asked (slower there, but testable)."""
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    if wants_bf16(device, precision):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def build_model(args: argparse.Namespace, records: list[ImageRecord], device: torch.device) -> DualEncoder:
    """Fresh towers with a byte-level tokenizer get one trained on the captions (and their accent-free
    forms, so such queries tokenise into known pieces); checkpoints and hub towers keep theirs."""
    overrides = args.model_overrides
    if is_checkpoint_dir(args.model):
        return create_model(str(args.model), device=device, **overrides)
    config = deep_merge(get_model_config(args.model), overrides)
    if config.get("backend", "vi_clip") != "vi_clip":  # pretrained backends bring their tokenizer
        return create_model(args.model, device=device, **overrides)
    text_cfg = config["text"]
    tokenizer = None
    if text_cfg.get("tokenizer", BYTELEVEL) == BYTELEVEL and not text_cfg.get("pretrained", False):
        size = args.tokenizer_vocab or int(text_cfg["hf_config"]["vocab_size"])
        captions = [prepare_text(c, text_cfg.get("segment", "none")) for r in records for c in r.captions]
        tokenizer = train_bytelevel_tokenizer(captions + [strip_diacritics(c) for c in captions], size)
    return create_model(args.model, device=device, tokenizer=tokenizer, **overrides)


def caption_sampling(args: argparse.Namespace) -> CaptionSampling:
    return CaptionSampling(
        full_prob=args.caption_full_prob,
        crop_prob=args.caption_crop_prob,
        word_dropout=args.caption_word_dropout,
        prefix_prob=args.caption_prefix_prob,
        strip_diacritics_prob=args.strip_diacritics_prob,
        foil_prob=args.caption_foil_prob,
        foil_rebind=args.caption_foil_rebind,
    )


def validate(model: DualEncoder, pixels: torch.Tensor, records: list[ImageRecord]) -> dict[str, float]:
    model.eval()
    texts = [c for r in records for c in r.captions]
    keys = [r.key for r in records for _ in r.captions]
    metrics = retrieval_metrics(
        embed_images(model, pixels), embed_texts(model, texts), [r.key for r in records], keys
    )
    model.train()
    return metrics


def rsum(m: dict[str, float]) -> float:
    return sum(m[f"{d}_r{k}"] for d in ("t2i", "i2t") for k in (1, 5, 10))


def train(args: argparse.Namespace) -> dict[str, Any]:
    start = time.perf_counter()
    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    state_dir = args.state_dir or args.out.with_name(args.out.name + ".state")
    train_recs = load_records(args.train_data, args.image_root)
    val_recs = load_records(args.val_data, args.image_root)
    resuming = args.resume and (state_dir / STATE_FILE).is_file()
    model = create_model(str(state_dir), device=device) if resuming else build_model(args, train_recs, device)
    model.freeze(image=args.freeze_image, text=args.freeze_text)  # BatchNorm statistics too
    to_uint8 = model.image_transform.to_uint8
    train_px = preload_images(train_recs, model.image_size, args.workers, to_uint8)
    val_px = preload_images(val_recs, model.image_size, args.workers, to_uint8)
    normalize = model.image_transform.normalize
    steps_per_epoch = len(train_recs) // (args.batch_size * args.grad_accum)
    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_recs)} training images is less than one step of batch x grad-accum")
    bias = getattr(model, "logit_bias", None)  # SigLIP-family models train with the sigmoid loss
    groups = param_groups(model, args.lr_image, args.lr_text, args.lr_head, args.weight_decay)
    vocab = TagVocab(train_recs, args.aux_tag_min_count) if args.aux_tag_weight > 0 else None
    tower = getattr(model, "image_encoder", None)
    if vocab is not None and not (isinstance(tower, torch.nn.Module) and hasattr(tower, "out_dim")):
        raise ValueError(f"--aux-tag-weight needs a model with its own image tower; {model.name} has none")
    tag_head = TagHead(int(tower.out_dim), len(vocab)).to(device) if vocab and tower is not None else None
    features = TowerFeatures(tower) if tag_head is not None and tower is not None else None
    if tag_head is not None:
        groups.append({"params": list(tag_head.parameters()), "lr": args.lr_head, "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups)
    scheduler = warmup_cosine(optimizer, args.warmup_steps, steps_per_epoch * args.epochs)
    history: list[dict[str, Any]] = []
    best = -1.0
    first_epoch = 0
    if resuming:
        state = torch.load(state_dir / STATE_FILE, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, best, first_epoch = state["history"], state["best"], state["epoch"] + 1
        torch.set_rng_state(state["torch_rng"])
        if tag_head is not None and "tag_head" in state:
            tag_head.load_state_dict(state["tag_head"])
    sampler = CaptionSampler(caption_sampling(args), args.seed + first_epoch)
    batcher = (
        NeighbourBatches(
            train_recs,
            args.batch_size,
            args.batch_neighbours,
            args.batch_neighbour_group,
            args.seed + first_epoch,
        )
        if args.batch_neighbours > 0
        else None
    )
    augment_cfg = AUGMENTATIONS[args.augment]
    augment = ImageAugmenter(augment_cfg, args.seed + first_epoch) if augment_cfg else None
    no_match = no_match_texts(args.no_match_texts, "train")
    calibration_texts = no_match_texts(args.no_match_texts, "calibration")
    rng = random.Random(args.seed + first_epoch)
    print(
        f"model {model.name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M params, "
        f"{len(train_recs)} train / {len(val_recs)} val images, {steps_per_epoch} steps/epoch, data "
        f"ready in {time.perf_counter() - start:.0f}s",
        flush=True,
    )
    model.train()
    for epoch in range(first_epoch, args.epochs):
        perm = torch.randperm(len(train_recs)).tolist()
        order = batcher.epoch(perm, steps_per_epoch * args.grad_accum) if batcher is not None else None
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=2.0)
        tick, seen = time.perf_counter(), 0
        for step in bar:
            for micro in range(args.grad_accum):
                at = (step * args.grad_accum + micro) * args.batch_size
                idx = next(order) if order is not None else perm[at : at + args.batch_size]
                texts, positives = sampler.sample(train_recs, idx)
                extra = rng.sample(no_match, min(args.no_match_batch, len(no_match))) if no_match else []
                extra = [
                    strip_diacritics(t) if rng.random() < args.strip_diacritics_prob else t for t in extra
                ]
                batch = model.tokenize(texts + extra)
                raw = train_px[idx]
                pixels = normalize(augment(raw) if augment else raw).to(device)
                with autocast(device, args.precision):
                    img, txt_all, scale = model(pixels, batch)
                    txt = txt_all[: len(texts)]
                    loss = contrastive_loss(img, txt, scale, bias, positives.to(device))
                    if tag_head is not None and vocab is not None and features is not None:
                        loss = loss + args.aux_tag_weight * tag_loss(
                            tag_head, features.take(), vocab.targets(train_recs, idx)
                        )
                    if extra:
                        loss = loss + args.no_match_weight * no_match_loss(
                            img, txt_all[len(texts) :], args.no_match_margin
                        )
                    loss = loss / args.grad_accum
                loss.backward()
                seen += len(idx)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
            bar.set_postfix(
                loss=f"{loss.item() * args.grad_accum:.3f}",
                img_s=f"{seen / (time.perf_counter() - tick):.0f}",
                refresh=False,
            )
        metrics = validate(model, val_px, val_recs)
        row = {
            "epoch": epoch + 1,
            "loss": round(loss.item() * args.grad_accum, 4),
            "elapsed_s": round(time.perf_counter() - start, 1),
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        history.append(row)
        print(json.dumps(row), flush=True)
        if rsum(metrics) > best:
            best = rsum(metrics)
            save_checkpoint(model, args.out, {"best_epoch": epoch + 1, "val": metrics, "history": history})
        save_checkpoint(model, state_dir, {"history": history})
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "history": history,
                "best": best,
                "torch_rng": torch.get_rng_state(),
                **({"tag_head": tag_head.state_dict()} if tag_head is not None else {}),
            },
            state_dir / STATE_FILE,
        )
    if features is not None:
        features.close()
    best_model = create_model(str(args.out), device=device)
    calibration = calibrate(best_model, val_px, val_recs, calibration_texts)
    summary = {"train_wall_s": round(time.perf_counter() - start, 1), "history": history}
    best_metrics = json.loads((args.out / "metrics.json").read_text(encoding="utf-8"))
    save_checkpoint(best_model, args.out, {**best_metrics, **summary})
    write_calibration(args.out, calibration)
    return summary


def main(argv: list[str] | None = None) -> None:
    summary = train(parse_args(argv))
    print(json.dumps({"train_wall_s": summary["train_wall_s"], "epochs": len(summary["history"])}))


if __name__ == "__main__":
    main()

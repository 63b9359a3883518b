"""A tiny, randomly initialised Stable Diffusion pipeline (and IP-Adapter), built locally.

No hub, no download: the tokenizer is a byte-level CLIP BPE vocabulary written here (every
byte as a token, no merges), and the models are a few thousand random weights. The pictures
are noise, but the loading and generation code paths are the real ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

CROSS_ATTENTION_DIM = 32
IMAGE_EMBED_DIM = 16
MAX_TOKENS = 16
IP_ADAPTER_WEIGHTS = "ip-adapter_tiny.safetensors"


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's printable stand-in for every byte (the BPE works on these characters)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, codes), strict=True))


def _tiny_tokenizer() -> CLIPTokenizer:
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    characters = list(_bytes_to_unicode().values())
    for token in [*characters, *(c + "</w>" for c in characters)]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=MAX_TOKENS)


def build_tiny_pipeline(folder: Path) -> Path:
    """Save a tiny Stable Diffusion pipeline into `folder` (as `save_pretrained` lays it out)."""
    torch.manual_seed(0)
    tokenizer = _tiny_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=CROSS_ATTENTION_DIM,
        norm_num_groups=2,
    )
    vae = AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=2,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=CROSS_ATTENTION_DIM,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=MAX_TOKENS,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return folder


def build_tiny_ip_adapter(folder: Path, pipeline_folder: Path, subfolder: str = "models") -> Path:
    """Save an IP-Adapter for the tiny pipeline, laid out like h94/IP-Adapter's `models/`."""
    torch.manual_seed(1)
    target = folder / subfolder
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=37,
            projection_dim=IMAGE_EMBED_DIM,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=32,
            patch_size=8,
        )
    )
    encoder.save_pretrained(target / "image_encoder")

    tokens = 4  # the plain IP-Adapter turns one image into four extra "words"
    weights: dict[str, Any] = {
        "image_proj.proj.weight": torch.randn(tokens * CROSS_ATTENTION_DIM, IMAGE_EMBED_DIM) * 0.1,
        "image_proj.proj.bias": torch.zeros(tokens * CROSS_ATTENTION_DIM),
        "image_proj.norm.weight": torch.ones(CROSS_ATTENTION_DIM),
        "image_proj.norm.bias": torch.zeros(CROSS_ATTENTION_DIM),
    }
    # One key/value projection per cross-attention layer, numbered 1, 3, 5, ... in the order
    # the UNet lists its attention processors (what diffusers' loader expects).
    unet = UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
    channels = list(unet.config.block_out_channels)
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        for projection in ("to_k_ip", "to_v_ip"):
            weights[f"ip_adapter.{key_id}.{projection}.weight"] = (
                torch.randn(hidden, CROSS_ATTENTION_DIM) * 0.1
            )
        key_id += 2
    save_file(weights, str(target / IP_ADAPTER_WEIGHTS))
    return folder

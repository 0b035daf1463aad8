"""Vietnamese CLIP: a dual encoder for Vietnamese text and images, its registry, factory and checkpoints;
pretrained OpenCLIP and Hugging Face CLIP/SigLIP models through the same factory (`backends`)."""

from .checkpoint import is_checkpoint_dir
from .config import ImageTowerConfig, TextTowerConfig, ViClipConfig
from .encoder import DualEncoder, save_checkpoint
from .factory import create_model, resolve_device
from .model import ViClip
from .registry import get_model_config, list_models

__all__ = [
    "DualEncoder",
    "ImageTowerConfig",
    "TextTowerConfig",
    "ViClip",
    "ViClipConfig",
    "create_model",
    "get_model_config",
    "is_checkpoint_dir",
    "list_models",
    "resolve_device",
    "save_checkpoint",
]

"""Model families besides our own towers: `openclip` (open_clip-torch) and `hf_clip` (transformers
CLIP/SigLIP), each a module with a `build(config, checkpoint, tokenizer)`. `vi_clip.factory` is the one
module that knows every family and picks one by a config's `backend` field."""

from .base import BackendConfig, PretrainedEncoder

__all__ = ["BackendConfig", "PretrainedEncoder"]

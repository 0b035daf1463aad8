"""Tiny models of every backend family: `deploy.harness.backends`, under the name tests used first."""

from deploy.harness.backends import FAMILIES, tiny_backend, tiny_tokenizer_dir

__all__ = ["FAMILIES", "tiny_backend", "tiny_tokenizer_dir"]

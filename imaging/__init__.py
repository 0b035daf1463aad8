"""Image decoding shared by the services and training: Pillow only, no torch, no service."""

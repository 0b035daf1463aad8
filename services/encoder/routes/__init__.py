"""HTTP routes of the encoder, one module per resource."""

"""Training, evaluation and data for vi_clip models (imports vi_clip; vi_clip never imports this)."""

"""Hand-made ViShapes-vi scenes whose answers the tests know."""

from __future__ import annotations

from vi_clip_train.vishapes.scene import Scene, SceneObject

# Two yellow stars and a red circle on white: "hai ngôi sao màu vàng" is true of it, "một" is not.
TWO_YELLOW_STARS = Scene(
    "white",
    (
        SceneObject("star", "yellow", "small", "left"),
        SceneObject("star", "yellow", "large", "center"),
        SceneObject("circle", "red", "small", "top"),
    ),
)

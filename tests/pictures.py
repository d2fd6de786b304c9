"""What a test asks of a figure the tool wrote."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg


def assert_png(path: Path) -> None:
    """A readable PNG, a real picture (not tiny) and not blank."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    assert img.shape[0] >= 200 and img.shape[1] >= 400
    assert float(img[..., :3].std()) > 0.0

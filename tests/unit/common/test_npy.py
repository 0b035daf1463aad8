"""`.npy` bodies between services: byte for byte what numpy writes, read back like `np.load`."""

from __future__ import annotations

import io

import numpy as np
import pytest

from services.common import npy


def _saved(x: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, x, allow_pickle=False)
    return out.getvalue()


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("shape", [(1, 256), (64, 512), (3, 7), (0, 256)])
def test_written_as_numpy_writes_and_read_back_twice(dtype: type, shape: tuple[int, int]) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    data = npy.dumps(x)
    assert data == _saved(x) and npy.dumps(x) == data  # the second from the kept header
    for _ in range(2):  # the first parse, then the header recognised
        back = npy.loads(data)
        assert back.dtype == x.dtype and back.shape == x.shape and np.array_equal(back, x)
        back[...] = 0  # a copy of its own, as np.load gives
    assert np.array_equal(npy.loads(data), x)


def test_a_strided_array_is_written_in_c_order() -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4).T
    assert np.array_equal(npy.loads(npy.dumps(x)), x)


def test_other_arrays_go_through_numpy_and_bad_bodies_are_refused() -> None:
    ints = np.arange(6, dtype=np.int64).reshape(2, 3)
    assert np.array_equal(npy.loads(_saved(ints)), ints)
    data = npy.dumps(np.ones((2, 4), np.float32))
    npy.loads(data)  # its header is known from here on
    with pytest.raises(ValueError):
        npy.loads(data[:-4])  # a row cut short
    with pytest.raises(ValueError):
        npy.loads(data + b"\0\0\0\0")
    with pytest.raises(ValueError):
        npy.loads(b"not an npy file")
    with pytest.raises(ValueError):
        npy.loads(_saved(np.array([{"a": 1}], dtype=object)))  # never unpickled

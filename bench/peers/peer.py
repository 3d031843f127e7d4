"""peer — what the Python peers (torch_al.py, sklearn_al.py) share: MNIST from alsim's cache
(the IDX files `alsim datasets fetch mnist` left, read with NumPy, pixels / 255 as float32) and
the options of the AL loop, named and defaulted as alsim's."""
import os
import struct

import numpy as np


def default_folder():
    """$ALSIM_DATA/mnist, else ~/.cache/alsim/mnist: where alsim caches MNIST."""
    root = os.environ.get("ALSIM_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "alsim")
    return os.path.join(root, "mnist")


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder):
    """(x (60000,784) float32, y (60000,) int64, x_test (10000,784), y_test (10000,))."""
    x = read_idx(os.path.join(folder, "train-images-idx3-ubyte")).reshape(-1, 784)
    y = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"))
    xt = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte")).reshape(-1, 784)
    yt = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte"))
    f = lambda a: a.astype(np.float32) / np.float32(255.0)
    return f(x), y.astype(np.int64), f(xt), yt.astype(np.int64)


def add_loop_args(ap, strategy):
    """The options every peer takes, with alsim's defaults; strategy: the peer's default."""
    ap.add_argument("--data", default=default_folder(), help="folder with the MNIST IDX files")
    ap.add_argument("--strategy", default=strategy)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--init", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--minibatch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)

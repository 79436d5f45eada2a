"""Random streams keyed by (seed, block): chunking and workers cannot change the draws.

Trials are cut into fixed blocks whose size depends only on the problem's shape
(reps × months × products), never on the chunk size or the number of workers.
Each block draws from its own counter-based Philox stream, keyed by the seed and
the block's index through :class:`numpy.random.SeedSequence`, so block 17 gets
the same numbers whichever chunk or thread computes it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_CELLS", "block_generator", "block_trials"]

#: Cells (trials × reps × months × products) per block: about 16 MB of float64.
BLOCK_CELLS = 1 << 21
_MAX_BLOCK_TRIALS = 256


def block_trials(n_reps: int, n_cells_per_rep: int) -> int:
    """Trials per block for this shape: a power of two, 1..256."""
    per_trial = max(1, n_reps * n_cells_per_rep)
    n = max(1, BLOCK_CELLS // per_trial)
    return int(min(_MAX_BLOCK_TRIALS, 1 << (n.bit_length() - 1)))


def block_generator(seed: int, block: int, stream: int = 0) -> np.random.Generator:
    """The generator of one block; ``stream`` separates independent uses of one block."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(stream, block))
    return np.random.Generator(np.random.Philox(sequence))

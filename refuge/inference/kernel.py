"""The proposal kernel of ABC-SMC: a box around a particle of the last population, folded into the unit cube."""

from __future__ import annotations

import functools

import numpy as np

KERNEL_WIDTH = 0.75  # box half-width, in standard deviations of the last population


@functools.cache
def _transition_class():
    from pyabc.parameters import Parameter
    from pyabc.transition import Transition

    class FoldedBoxTransition(Transition):
        """Pick a particle of the last population, move each coordinate uniformly within ±h, fold into [0, 1].

        pyabc weighs each proposal by prior density / proposal density. A Gaussian kernel's
        density varies over its own draws by a factor exp(-χ²/2): with tens of parameters
        the weights spread over orders of magnitude and the population collapses onto a few
        particles. Here the prior is flat on the unit cube and each box is flat, and the
        particle to move is picked uniformly (the last weights only tell how the previous
        target was reached; the next target, prior × [distance <= threshold], does not
        depend on them), so where boxes do not overlap every weight is equal. Folding at
        the cube's faces keeps every proposal inside the prior; the density counts the
        folded images.
        """

        def __init__(self, width: float = KERNEL_WIDTH):
            self.width = width

        def fit(self, X, w) -> None:
            self._X_arr = X.to_numpy(float)[np.asarray(w) > 0]
            self.h = np.clip(self.width * self._X_arr.std(axis=0), 1e-4, 1.0)

        def rvs_single(self) -> Parameter:
            x = self._X_arr[np.random.randint(len(self._X_arr))]
            return Parameter(dict(zip(self.X.columns, _fold(x + np.random.uniform(-self.h, self.h)))))

        def pdf(self, x):
            if isinstance(x, Parameter) or not hasattr(x, "columns"):
                return self._pdf(np.array([x[k] for k in self.X.columns], float))
            return np.array([self._pdf(row) for row in x[self.X.columns].to_numpy(float)])

        def _pdf(self, x: np.ndarray) -> float:
            P, h = self._X_arr, self.h
            images = (np.abs(x - P) <= h).astype(float) + (np.abs(-x - P) <= h) + (np.abs(2 - x - P) <= h)
            with np.errstate(divide="ignore"):
                log_k = np.log(images).sum(axis=1) - np.log(2 * h).sum()
            return float(np.exp(np.logaddexp.reduce(log_k) - np.log(len(P))))

    return FoldedBoxTransition


def _fold(y: np.ndarray) -> np.ndarray:
    """Reflect values in [-1, 2] into [0, 1] at the faces of the unit cube."""
    y = np.where(y < 0, -y, y)
    return np.where(y > 1, 2 - y, y)

"""The network's waiting-day draw at the edges of the move chance (a hostile settings file found p = 1.4e-44)."""

import pytest

from refuge.sim.mechanisms.network.low import geometric0


@pytest.mark.parametrize("p", [1.4268335361556496e-44, 5e-324, 1e-17])
def test_a_move_chance_too_small_for_one_minus_p_waits_past_any_run(p):
    # 1 - p rounds to 1 for these: the draw must not divide by log(1) = 0, and the wait is past any run
    assert 1.0 - p == 1.0
    for u in (0.0, 0.3, 0.999999):
        k = geometric0(u, p)
        assert k == 0 if u == 0.0 else k >= 1 << 30


def test_small_move_chances_keep_the_geometric_law():
    # P(wait >= k) = (1 - p) ** k: the draw is k or more once 1 - u falls below that tail, less than k above it
    p = 0.01
    for k in (1, 5, 50):
        tail = (1 - p) ** k
        assert geometric0(1.0 - tail * (1 - 1e-9), p) >= k
        assert geometric0(1.0 - tail * (1 + 1e-9), p) < k
    assert geometric0(0.5, 0.0) == 1 << 40 and geometric0(0.5, 1.0) == 0
    assert geometric0(0.4, 0.5) == 1 and geometric0(0.5, 0.5) == 0  # P(one day or more) = 0.5, counted as u < 0.5

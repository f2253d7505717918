"""Round ticks for any range the report meets."""

import random
import re

from pipelines.publish.charts import nice_ticks, tick_label


def test_ticks_are_round_cover_the_range_and_are_few():
    rng = random.Random(7)
    for _ in range(2000):
        low = min(0.0, rng.uniform(-1e6, 1e6) * rng.choice([0, 1]))
        high = low + 10 ** rng.uniform(-2, 8)
        ticks = nice_ticks(low, high)
        step = ticks[1] - ticks[0]
        assert ticks[0] <= low and ticks[-1] >= high
        assert 3 <= len(ticks) <= 7, (low, high, ticks)
        assert re.fullmatch(r"(1|2|25|5)", f"{step:.3e}".split("e")[0].replace(".", "").rstrip("0"))


def test_counts_get_whole_steps_and_labels():
    for high in (0, 1, 2, 3, 7, 10, 13, 99, 1000):
        ticks = nice_ticks(0, high, integer=True)
        step = ticks[1] - ticks[0]
        assert step >= 1 and float(step).is_integer()
        assert all(re.fullmatch(r"[\d,]+", tick_label(t, step)) for t in ticks)


def test_fractional_steps_show_their_decimals():
    ticks = nice_ticks(0, 1)
    assert [tick_label(t, ticks[1] - ticks[0]) for t in ticks] == [
        "0.00",
        "0.25",
        "0.50",
        "0.75",
        "1.00",
    ]

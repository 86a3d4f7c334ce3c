"""The soak's looped source: one growing timeline across passes, each block delivered once it has been "captured"."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from tests.support.looped_source import LoopedWavSource, looped_opener
from tests.ui.test_level_meter import sine_wav


def test_passes_continue_one_timeline_at_real_time(tmp_path: Path) -> None:
    source_ = LoopedWavSource(sine_wav(tmp_path / "a.wav", 0.2, 0.3, rate=8000), 16000, gap_s=0.1)
    got: list[tuple[float, float, float]] = []  # start, end, delivered (since t0)

    async def read() -> None:
        async for chunk in source_.chunks():
            assert source_.t0 is not None
            got.append((chunk.start, chunk.end, time.monotonic() - source_.t0))
            if chunk.end >= 2.5 * source_.pass_seconds or len(got) >= 40:  # 15 blocks expected
                await source_.close()

    asyncio.run(asyncio.wait_for(read(), 5))
    assert abs(source_.pass_seconds - 0.3) < 1e-6  # 0.2 s of audio, then the pause
    assert source_.passes == 2
    for (_, end, _), (start, _, _) in itertools.pairwise(got):
        assert abs(start - end) < 1e-9  # no gap, no overlap, across the turn of a pass too
    late = [delivered - end for _, end, delivered in got]
    print(
        f"{len(got)} blocks over {got[-1][1]:.2f} s; delivered {min(late) * 1000:.1f}–{max(late) * 1000:.1f} ms "
        "after their end"
    )
    assert min(late) >= -0.002  # never before the block has been "captured"
    assert late[-1] < 0.1  # and no drift: the last is as punctual as the rest


def test_the_opener_loops_what_the_app_asks_for(tmp_path: Path) -> None:
    opened: list[LoopedWavSource] = []
    source = looped_opener(opened)(str(sine_wav(tmp_path / "b.wav", 1.0, 0.3, rate=48000)), 16000, None, True)
    assert opened == [source]
    assert isinstance(source, LoopedWavSource)
    assert source.sample_rate == 16000
    assert abs(source.pass_seconds - 2.5) < 1e-3  # resampled once: 1 s of audio at 16 kHz, the 1.5 s pause

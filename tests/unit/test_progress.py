"""gis.progress: the callback protocol, chunking, and the tqdm adapter."""

from __future__ import annotations

import io

import pytest

from gis.progress import ProgressRecorder, Stopwatch, chunked, notify, tqdm_progress


def test_chunked_reports_after_every_chunk_and_keeps_items():
    recorder = ProgressRecorder()
    chunks = list(chunked(range(25), size=10, stage="stage", progress=recorder))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert sum(chunks, []) == list(range(25))
    assert recorder.calls == [(0, 25, "stage"), (10, 25, "stage"), (20, 25, "stage"), (25, 25, "stage")]
    assert recorder.last("stage") == (25, 25) and recorder.last("other") is None


def test_chunked_without_length_or_callback():
    assert list(chunked(iter("abc"), size=2, stage="read")) == [["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([1], size=0, stage="read"))


def test_a_failing_callback_never_breaks_the_work(caplog):
    def broken(done, total, stage):
        raise RuntimeError("display gone")

    notify(broken, 1, 2, "assign")  # logged, not raised
    assert "progress callback failed" in caplog.text
    notify(None, 1, 2, "assign")  # no callback: nothing happens


def test_tqdm_adapter_draws_on_the_given_stream_and_closes():
    stream = io.StringIO()
    with tqdm_progress(enabled=True, file=stream, labels={"stage": "暂存 COPY"}) as progress:
        progress(0, 100, "stage")
        progress(60, 100, "stage")
        progress(100, 100, "stage")
        progress(5, None, "read")
    text = stream.getvalue()
    assert "暂存 COPY" in text and "/100" in text and "read" in text


def test_tqdm_adapter_is_silent_when_disabled_or_not_a_terminal():
    stream = io.StringIO()  # not a TTY
    with tqdm_progress(file=stream) as progress:
        progress(10, 10, "stage")
    with tqdm_progress(enabled=False, file=stream) as progress:
        progress(10, 10, "stage")
    assert stream.getvalue() == ""


def test_small_totals_get_no_bar():
    stream = io.StringIO()
    with tqdm_progress(enabled=True, file=stream, min_total=1000) as progress:
        progress(3, 3, "stage")
    assert stream.getvalue() == ""


def test_stopwatch_counts_up():
    clock = Stopwatch()
    first = clock.seconds
    assert 0 <= first <= clock.seconds


def test_a_bar_started_without_total_closes_when_the_stage_turns_out_small():
    stream = io.StringIO()
    with tqdm_progress(enabled=True, file=stream, min_total=1000) as progress:
        progress(0, None, "read")
        assert "read" in stream.getvalue()
        progress(3, 3, "read")
        drawn = stream.getvalue()
        progress(0, None, "read")  # a new bar: the first one was closed
    assert stream.getvalue().count("read") > drawn.count("read")

"""The command's signal handling: Ctrl-C and SIGTERM stop it once, until the data is complete, and then not at all."""

from __future__ import annotations

import signal

import pytest

from exports.management.interrupts import Terminated, stop_on_signals

pytestmark = pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal")


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)])
def test_a_signal_stops_the_block_once_and_the_handlers_are_restored(signum, raised):
    before = signal.getsignal(signum)
    with pytest.raises(raised), stop_on_signals() as stopping:
        signal.raise_signal(signum)
    assert stopping.signal == signum
    assert signal.getsignal(signum) is before
    with stop_on_signals():
        try:
            signal.raise_signal(signum)
        except raised:
            signal.raise_signal(signum)  # a second signal during the clean-up of the first changes nothing


def test_once_every_chunk_is_out_a_signal_no_longer_stops_the_command():
    with stop_on_signals() as stopping:
        chunks = list(stopping.disarm_at_end(iter_chunks()))
        signal.raise_signal(signal.SIGTERM)  # the file's rename and the run's record are not cut short
    assert chunks == [b"a", b"b"]
    assert stopping.signal is None


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def iter_chunks():
    yield b"a"
    yield b"b"

"""core.memo.ProcessMemo: built once per key, bounded with the oldest entry out first."""

from core.memo import ProcessMemo


def test_a_value_is_built_once_per_key_and_the_oldest_leaves_first():
    memo, builds = ProcessMemo(size=2), []

    def build(value):
        return lambda: builds.append(value) or value

    assert memo.get_or_build("a", build("A")) == "A"
    assert memo.get_or_build("a", build("other")) == "A"
    memo.get_or_build("b", build("B"))
    memo.get_or_build("c", build("C"))  # full: « a » leaves
    assert len(memo) == 2 and builds == ["A", "B", "C"]
    assert memo.get_or_build("a", build("A2")) == "A2"  # built again
    assert memo.get_or_build("c", build("x")) == "C"
    memo.clear()
    assert len(memo) == 0

"""Roll-up layout (pure logic, no Qt): committed words never move, rows roll up, long words split."""

from __future__ import annotations

from captioner.ui.overlay_layout import RollUp, row_is_final, row_text


def texts(r: RollUp, n: int = 10) -> list[str]:
    return [row_text(row) for row in r.rows(n)]


def positions(r: RollUp) -> dict[tuple[int, int], str]:
    """(row from the top of all rows, column) of every committed word."""
    out = {}
    for i, row in enumerate(r.all_rows()):
        col = 0
        for w in row:
            if w.kind == "final":
                out[(i, col)] = w.text
            col += len(w.text) + 1
    return out


def test_committed_words_never_move_while_interim_streams() -> None:
    r = RollUp(max_width=20)
    r.commit("1", "the quick brown fox")
    before = positions(r)
    interims = ["jumps", "jumps over", "jumps over the lazy", "jumps over the lazy dog and keeps running far"]
    for text in interims:
        r.interim("2", text)
        assert positions(r) == before  # committed words keep their row and column
    r.commit("2", "jumps over the lazy dog")
    after = positions(r)
    assert all(after[k] == v for k, v in before.items())


def test_interim_and_tail_are_marked() -> None:
    r = RollUp(max_width=60)
    r.commit("1", "hello there")
    r.interim("2", "how are you", tail="are you")
    (row,) = r.rows(5)
    kinds = [(w.text, w.kind) for w in row]
    assert kinds == [("hello", "final"), ("there", "final"), ("how", "interim"), ("are", "tail"), ("you", "tail")]
    assert not row_is_final(row)


def test_roll_up_line_limit_and_order() -> None:
    r = RollUp(max_width=10)
    for i, word in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]):
        r.commit(str(i), word)
    assert texts(r, 2) == ["delta echo", "foxtrot"]
    assert texts(r, 1) == ["foxtrot"]
    assert all(len(t) <= 10 for t in texts(r))


def test_rows_roll_up_one_at_a_time() -> None:
    r = RollUp(max_width=11)
    r.commit("1", "one two")
    r.commit("2", "three")
    assert texts(r, 3) == ["one two", "three"]
    r.commit("3", "four five")
    assert texts(r, 3) == ["one two", "three four", "five"]
    r.commit("4", "six seven eight")
    assert texts(r, 3) == ["three four", "five six", "seven eight"]


def test_revision_replaces_text_without_duplicating() -> None:
    r = RollUp(max_width=30)
    r.commit("1", "its the best of times")
    r.commit("2", "it was the worst")
    r.commit("1", "It's the best of times.")
    joined = " ".join(texts(r))
    assert joined == "It's the best of times. it was the worst"


def test_drop_and_clear_keep_live_lines() -> None:
    r = RollUp(max_width=30)
    r.commit("1", "done")
    r.interim("2", "still talking")
    r.clear()
    assert texts(r) == ["still talking"]
    r.drop("2")
    assert r.empty


def test_word_longer_than_a_row_is_split() -> None:
    r = RollUp(max_width=8)
    r.commit("1", "see https://example.org/x")
    assert all(len(t) <= 8 for t in texts(r))
    assert "".join(texts(r)).replace(" ", "") == "seehttps://example.org/x"


def test_set_max_width_reflows() -> None:
    r = RollUp(max_width=10)
    r.commit("1", "aa bb cc dd ee ff")
    assert len(r.all_rows()) == 2
    r.set_max_width(100)
    assert texts(r) == ["aa bb cc dd ee ff"]

"""Word boost by contextual biasing: the prefix tree of spellings, the matcher, and the decoder's rewind."""

from __future__ import annotations

from captioner.engines.moonshine.biasing import BiasMatcher, BiasTrie, spellings
from captioner.engines.moonshine.decoder import MoonshineDecoder
from captioner.engines.moonshine.tokenizer import Tokenizer
from tests.moonshine.helpers import samples


def test_spellings_cover_case_variants() -> None:
    assert spellings("heartily") == ["heartily", "Heartily"]
    assert spellings("new  york") == ["new york", "New york", "New York"]
    assert spellings("PostgreSQL") == ["PostgreSQL", "postgresql"]
    assert spellings("  ") == []


def test_the_tree_holds_every_spelling_with_and_without_the_leading_space(tokenizer: Tokenizer) -> None:
    trie = BiasTrie(tokenizer, ["Nagg", "nagg", " "], score=2.0)
    assert trie.terms == ("Nagg", "nagg")
    assert trie.size == 4  # "Nagg", "nagg", each with and without the word-start marker
    starts = {tokenizer.encode(form, leading_space=sp)[0] for form in ("Nagg", "nagg") for sp in (True, False)}
    assert set(trie.root.keys.tolist()) == starts


def test_matcher_follows_a_term_and_reports_abandoning_it(tokenizer: Tokenizer) -> None:
    trie = BiasTrie(tokenizer, ["Kubernetes"])
    seq = tokenizer.encode("Kubernetes")
    assert len(seq) >= 2
    m = BiasMatcher(trie)
    assert m.at_rest and seq[0] in m.candidates(may_start=True).tolist()
    assert m.candidates(may_start=False).size == 0
    assert m.push(seq[0]) and not m.at_rest
    assert m.candidates(may_start=True).tolist() == [seq[1]]  # only the continuation gets the bonus now
    assert not m.push(tokenizer.encode(" the")[0])  # abandoned mid-term: the decoder rewinds
    m.reset()
    for tok in seq:
        assert m.push(tok)
    assert m.completed == ["Kubernetes"] and m.at_rest
    assert m.push(seq[0], may_start=False) and m.at_rest  # a start is not taken where starts are barred


def test_boost_fixes_a_misheard_word_and_leaves_the_rest(decoder: MoonshineDecoder, tokenizer: Tokenizer) -> None:
    clip = samples("endgame_nagg_nell.wav", 4.5, 8.4)  # "We laugh less heartily, so we have still that resource."
    plain = tokenizer.decode(decoder.transcribe(clip).tokens)
    assert "hotly" in plain  # the model mishears it (it gets "heartily" right later in the recording)
    boosted = decoder.transcribe(clip, bias=BiasTrie(tokenizer, ["heartily"]))
    text = tokenizer.decode(boosted.tokens)
    assert "heartily" in text and "hotly" not in text, text
    assert text.replace("heartily", "hotly") == plain
    # Terms that were not said change nothing, even with a big bonus: a started term that the model does
    # not carry on is rewound.
    unrelated = BiasTrie(tokenizer, ["Kubernetes", "Zanzibar", "Nagg", "Tchaikovsky", "Hamm"], score=8.0)
    out = decoder.transcribe(clip, bias=unrelated)
    assert tokenizer.decode(out.tokens) == plain

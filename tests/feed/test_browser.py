"""The feed's pages in a real headless Chromium (Debian's, driven by Playwright; see tests/support/browser.py).

The caption page follows ``captioner caption --serve`` captioning a real recording with the real local engine
(PocketSphinx): the finals in order, the interim styled apart, and a reconnect when the command runs again.
Then the page's style (from the app, overridden in the URL), speaker labels, text that looks like markup, and
the transcript page with a late join, a revision and a live line.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from captioner.captions.events import Final, Interim
from captioner.captions.transcript import Transcript
from captioner.feed.security import Address
from captioner.feed.server import FeedServer
from captioner.resources import resource_path
from captioner.settings import Appearance
from tests.feed.helpers import start_cli
from tests.support.browser import artifact, chromium
from tests.support.net import free_port

SCENE = "linear-gradient(160deg, #36485e 0%, #5b6f4a 55%, #2a2f38 100%)"
"""What a stream scene behind the transparent page might look like, for the screenshots."""
HEIGHT_IN_EM = "el => el.clientHeight / parseFloat(getComputedStyle(el).fontSize)"


async def final_texts(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator(".line.final .text").all_inner_texts()]


async def style_of(page: Page, selector: str, *props: str) -> list[str]:
    return await page.locator(selector).first.evaluate(
        "(el, props) => props.map((p) => getComputedStyle(el)[p])", list(props)
    )


async def test_the_caption_page_follows_a_cli_run_and_reconnects_when_it_runs_again() -> None:
    port = free_port()
    wav = str(resource_path("samples", "beckett.wav"))  # 10 s of real speech, at 1x
    # PocketSphinx: long lines, so a committed line and a line being spoken are on screen together.
    run = await start_cli(
        "--engine", "local", "--source", wav, "--format", "jsonl", "--no-autosave", "--serve", str(port)
    )
    assert run.url == f"http://127.0.0.1:{port}/"
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 240})
        await page.goto(run.url)
        body = page.locator("body")
        await expect(body).to_have_attribute("data-state", "open")
        # While the second line is spoken the first is committed: both are on screen, styled apart.
        await expect(page.locator(".line.final")).to_have_count(1, timeout=20000)
        await expect(page.locator(".line.interim")).to_have_count(1, timeout=20000)
        final_style = await style_of(page, ".line.final .text", "color", "fontStyle")
        interim_style = await style_of(page, ".line.interim .text", "color", "fontStyle")
        assert final_style == ["rgb(255, 255, 255)", "normal"]  # the app's text colour
        assert interim_style == ["rgb(200, 200, 200)", "italic"]  # its interim colour, italic like the overlay
        await page.evaluate(f"document.documentElement.style.background = '{SCENE}'")
        shot = artifact("caption-feed-obs.png")
        await page.screenshot(path=str(shot))
        await page.evaluate("document.documentElement.style.background = ''")

        assert await run.finish() == 0, "".join(run.stderr)
        finals = [r["text"] for r in run.records() if r["type"] == "final"]
        assert len(finals) >= 2
        assert await final_texts(page) == finals  # every final, in order, as stdout printed them
        await expect(page.locator(".line.interim")).to_have_count(0)
        await expect(body).not_to_have_attribute("data-state", "open")  # the command ended: the server is gone

        again = await start_cli(
            "--engine", "local", "--source", wav, "--format", "jsonl", "--no-autosave", "--serve", str(port)
        )
        try:
            await expect(body).to_have_attribute("data-state", "open", timeout=15000)  # reconnected by itself
            await expect(page.locator(".line.interim")).to_have_count(1, timeout=20000)  # the new run's words
        finally:
            again.proc.send_signal(signal.SIGINT)
            assert await again.finish() == 0, "".join(again.stderr)


@pytest.fixture
async def feed() -> AsyncIterator[tuple[FeedServer, Transcript]]:
    transcript = Transcript()
    server = FeedServer(Address(host="127.0.0.1", port=0), transcript=transcript)
    await server.start()
    yield server, transcript
    await server.stop()


def publish(server: FeedServer, transcript: Transcript, *events: Interim | Final) -> None:
    for event in events:
        transcript.apply(event)
        server.event(event)


async def test_the_caption_page_takes_the_app_style_the_url_and_shows_speakers_once_there_are_two(
    feed: tuple[FeedServer, Transcript],
) -> None:
    server, transcript = feed
    server.set_style(Appearance(font_size=30, text_color="#00ff00", background_color="#112233", lines=3))
    async with chromium() as browser:
        plain = await browser.new_page()
        await plain.goto(server.url("/"))
        custom = await browser.new_page()
        await custom.goto(server.url("/") + "?lines=1&size=48&color=ffff00&bg=transparent&outline=0&page=black")
        for page in (plain, custom):
            await expect(page.locator("body")).to_have_attribute("data-state", "open")

        publish(server, transcript, Final(line_id="1", text="Good evening.", engine="e", speaker="A"))
        for page in (plain, custom):
            await expect(page.locator(".line.final")).to_have_count(1)
            assert await page.locator(".speaker").count() == 0  # one speaker so far: no label
        assert await style_of(plain, ".line.final", "color", "fontSize") == ["rgb(0, 255, 0)", "30px"]
        opacity = Appearance().background_opacity  # the default, as the app would send it
        assert await style_of(plain, "#box", "backgroundColor") == [f"rgba(17, 34, 51, {opacity:g})"]
        assert await style_of(custom, ".line.final", "color", "fontSize", "textShadow") == [
            "rgb(255, 255, 0)",
            "48px",
            "none",
        ]
        assert await style_of(custom, "#box", "backgroundColor") == ["rgba(0, 0, 0, 0)"]
        assert await style_of(custom, "html", "backgroundColor") == ["rgb(0, 0, 0)"]
        assert await style_of(plain, "html", "backgroundColor") == ["rgba(0, 0, 0, 0)"]  # see-through for OBS

        publish(
            server,
            transcript,
            Final(line_id="2", text="Evening! <img src=x onerror=alert(1)>", engine="e", speaker="B"),
            Interim(line_id="3", text="so what brings", engine="e", speaker="A"),
        )
        await expect(plain.locator(".speaker")).to_have_text(["A", "B", "A"])
        assert await plain.locator("img").count() == 0  # text stays text
        assert "<img src=x" in await plain.locator(".line.final").nth(1).inner_text()
        # Roll-up: the box is as tall as the number of lines asked for, the newest at its bottom.
        one_line = await custom.locator("#box").evaluate(HEIGHT_IN_EM)
        three = await plain.locator("#box").evaluate(HEIGHT_IN_EM)
        assert 1.2 < one_line < 1.8 and 3.8 < three < 4.4, (one_line, three)
        box = await custom.locator("#box").bounding_box()
        first = await custom.locator(".line").first.bounding_box()
        last = await custom.locator(".line").last.bounding_box()
        assert box and first and last
        assert (
            first["y"] < box["y"] and box["y"] <= last["y"] and last["y"] + last["height"] <= box["y"] + box["height"]
        )

        server.change(transcript.drop_live()[0])  # the interim line was abandoned (a reconnect)
        await expect(plain.locator(".line.interim")).to_have_count(0)
        server.set_style(Appearance(text_color="#ff0000"))  # the app's appearance changed
        await expect(plain.locator(".line.final").first).to_have_css("color", "rgb(255, 0, 0)")
        await expect(custom.locator(".line.final").first).to_have_css("color", "rgb(255, 255, 0)")


async def test_the_transcript_page_shows_what_was_said_before_it_opened_and_follows(
    feed: tuple[FeedServer, Transcript],
) -> None:
    server, transcript = feed
    lines = [f"Line number {i} of the meeting." for i in range(30)]
    publish(
        server, transcript, *(Final(line_id=str(i), text=t, engine="e", start=3.0 * i) for i, t in enumerate(lines))
    )
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 900, "height": 500})
        await page.goto(server.url("/transcript"))
        finals = page.locator(".line.final .text")
        await expect(finals).to_have_count(30)
        assert [t.strip() for t in await finals.all_inner_texts()] == lines
        assert await page.locator(".line time").nth(29).inner_text() == "1:27"

        publish(
            server,
            transcript,
            Final(line_id="29", text="Line number 29, revised.", engine="e", start=87.0),
            Interim(line_id="30", text="and now the", engine="e", start=90.0, tail="the"),
        )
        await expect(page.locator(".line.interim .text")).to_have_text("and now ")
        await expect(page.locator(".line.interim .tail")).to_have_text("the")
        await expect(finals.nth(29)).to_have_text("Line number 29, revised.")
        await expect(finals).to_have_count(30)  # revised in place, not added
        assert await page.evaluate("window.innerHeight + window.scrollY >= document.body.scrollHeight - 40")
        await page.screenshot(path=str(artifact("caption-feed-transcript.png")))

        publish(server, transcript, Final(line_id="30", text="And now the budget.", engine="e", start=90.0))
        await expect(finals).to_have_count(31)
        await expect(page.locator(".line.interim")).to_have_count(0)


OBS_CUSTOM_CSS = """
const obsCSS = document.createElement('style');
obsCSS.appendChild(document.createTextNode(decodeURIComponent(%r)));
document.querySelector('head').appendChild(obsCSS);
"""
"""What OBS's browser source runs when a page has loaded, to apply the source's "Custom CSS"."""


async def test_obs_custom_css_applies_to_the_caption_page(feed: tuple[FeedServer, Transcript]) -> None:
    server, transcript = feed
    publish(server, transcript, Final(line_id="1", text="Styled by OBS.", engine="e"))
    css = "body { background-color: rgba(0, 0, 0, 0); margin: 0px auto; overflow: hidden; } .line { color: #010203; }"
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(server.url("/"))
        await expect(page.locator(".line.final")).to_have_count(1)
        await page.evaluate(OBS_CUSTOM_CSS % quote(css))
        await expect(page.locator(".line.final")).to_have_css("color", "rgb(1, 2, 3)")

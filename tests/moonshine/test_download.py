"""Downloading the model files, against a local HTTP server on 127.0.0.1 (never the internet).

The server supports ``Range`` and can cut a transfer midway, so resuming, checksum failures, a
server that ignores ranges and no server at all are all exercised.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from captioner.engines.moonshine import cache, download, model
from captioner.engines.moonshine.download import DownloadError, SourceFile


class FileServer:
    """Serves ``files`` (name → bytes); ``cut[name] = n`` sends only n bytes of the next response for name."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append((name, self.headers.get("Range")))
                if name not in server.files:
                    self.send_error(404)
                    return
                data = server.files[name]
                start = 0
                ranged = self.headers.get("Range")
                if ranged and not server.ignore_range:
                    start = int(ranged.removeprefix("bytes=").rstrip("-"))
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = server.cut.pop(name, None)
                self.wfile.write(body if limit is None else body[:limit])
                if limit is not None:
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/files/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def add(self, name: str, data: bytes) -> SourceFile:
        self.files[name] = data
        return SourceFile(name, len(data), hashlib.sha256(data).hexdigest())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FileServer]:
    s = FileServer()
    yield s
    s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_download_reports_progress_and_verifies(server: FileServer, tmp_path: Path) -> None:
    files = [server.add("a.ort", os.urandom(700_000)), server.add("b.bin", os.urandom(3_000))]
    seen: list[tuple[int, int]] = []
    download.download_files(tmp_path, lambda done, total: seen.append((done, total)), server.url, files)
    assert (tmp_path / "a.ort").read_bytes() == server.files["a.ort"]
    assert (tmp_path / "b.bin").read_bytes() == server.files["b.bin"]
    assert not list(tmp_path.glob("*.part"))
    assert seen[-1] == (703_000, 703_000)
    assert len(seen) > 3 and all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
    server.requests.clear()
    download.download_files(tmp_path, None, server.url, files)  # already there and whole: no request
    assert server.requests == []


def test_cut_transfer_resumes_with_a_range_request(server: FileServer, tmp_path: Path) -> None:
    source = server.add("a.ort", os.urandom(1_000_000))
    server.cut["a.ort"] = 400_000
    download.fetch(server.url + "a.ort", tmp_path / "a.ort", source, attempts=3, timeout=5)
    assert (tmp_path / "a.ort").read_bytes() == server.files["a.ort"]
    assert server.requests == [("a.ort", None), ("a.ort", "bytes=400000-")]


def test_cut_transfer_keeps_the_part_file_for_next_time(server: FileServer, tmp_path: Path) -> None:
    source = server.add("a.ort", os.urandom(500_000))
    server.cut["a.ort"] = 123_456
    with pytest.raises(DownloadError, match="continues where it stopped next time"):
        download.fetch(server.url + "a.ort", tmp_path / "a.ort", source, attempts=1, timeout=5)
    assert (tmp_path / "a.ort.part").stat().st_size == 123_456
    download.fetch(server.url + "a.ort", tmp_path / "a.ort", source, attempts=1, timeout=5)
    assert server.requests[-1] == ("a.ort", "bytes=123456-")
    assert (tmp_path / "a.ort").read_bytes() == server.files["a.ort"]
    assert not (tmp_path / "a.ort.part").exists()


def test_server_ignoring_the_range_starts_over(server: FileServer, tmp_path: Path) -> None:
    source = server.add("a.ort", os.urandom(300_000))
    (tmp_path / "a.ort.part").write_bytes(server.files["a.ort"][:1000])
    server.ignore_range = True
    download.fetch(server.url + "a.ort", tmp_path / "a.ort", source, timeout=5)
    assert (tmp_path / "a.ort").read_bytes() == server.files["a.ort"]


def test_checksum_mismatch_removes_the_file(server: FileServer, tmp_path: Path) -> None:
    good = server.add("a.ort", os.urandom(200_000))
    server.files["a.ort"] = os.urandom(200_000)  # same size, other bytes
    with pytest.raises(DownloadError, match="checksum does not match"):
        download.fetch(server.url + "a.ort", tmp_path / "a.ort", good, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_a_plain_refusal(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1 refused the download of the speech model \(HTTP 404\)"):
        download.fetch(server.url + "nope.ort", tmp_path / "nope.ort", SourceFile("nope.ort", 1, "00" * 32))


def test_no_server_is_a_plain_message(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/files/"
    with pytest.raises(DownloadError, match=r"could not reach 127\.0\.0\.1 to download the speech model \(offline\?"):
        download.download_files(tmp_path, None, url, [SourceFile("a.ort", 10, "00" * 32)], timeout=5)


# Through ensure_model: what the engine sees.


def _no_wheel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAPTIONER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CAPTIONER_RESOURCES_DIR", str(tmp_path / "no-resources"))
    monkeypatch.setattr(model, "wheel_model_dir", lambda: None)


def test_offline_first_use_raises_model_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_wheel(monkeypatch, tmp_path)
    monkeypatch.setattr(download, "BASE_URL", f"http://127.0.0.1:{_free_port()}/files/")
    with pytest.raises(model.ModelUnavailable) as caught:
        model.ensure_model()
    assert str(caught.value).startswith("The Moonshine base English model is not available: could not reach 127.0.0.1")
    assert model.find_model() is None


def test_checksum_mismatch_raises_model_unavailable(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_wheel(monkeypatch, tmp_path)
    monkeypatch.setattr(download, "BASE_URL", server.url)
    fakes = tuple(server.add(f.name, os.urandom(50_000)) for f in download.SOURCE_FILES)
    monkeypatch.setattr(download, "SOURCE_FILES", tuple(SourceFile(f.name, f.size, "ab" * 32) for f in fakes))
    with pytest.raises(model.ModelUnavailable, match="checksum does not match"):
        model.ensure_model()
    assert not any(cache.downloads_dir().glob("encoder_model.ort*"))
    assert model.find_model() is None


@pytest.mark.slow
def test_download_then_convert(server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = model.wheel_model_dir()
    if wheel is None:
        pytest.skip("needs the moonshine-cpp wheel's files to serve")
    for f in download.SOURCE_FILES:
        server.add(f.name, (wheel / f.name).read_bytes())
    server.cut["decoder_model_merged.ort"] = 10_000_000
    _no_wheel(monkeypatch, tmp_path)
    monkeypatch.setattr(download, "BASE_URL", server.url)
    steps: list[tuple[str, float]] = []
    files = model.ensure_model(lambda step, fraction: steps.append((step, fraction)))
    assert files.source == model.DOWNLOAD_SOURCE
    assert files.encoder.is_file() and model.find_model() == files
    assert ("decoder_model_merged.ort", "bytes=10000000-") in server.requests
    assert steps[0][0].startswith("downloading the speech model") and steps[-1][1] == 1.0
    assert any(step.startswith("converting") for step, _ in steps)
    assert all(0.0 <= f <= 1.0 for _, f in steps) and [f for _, f in steps] == sorted(f for _, f in steps)
    assert not cache.downloads_dir().exists()  # the sources are removed once converted

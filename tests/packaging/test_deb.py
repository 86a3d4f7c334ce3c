"""The Linux package, end to end: build the bundle and the .deb, install it, run it, validate it, remove it.

One build per session (``built_deb``), one install per module (``installed``, removed with
``dpkg --purge`` at the end — the removal is checked there too).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from captioner import __version__
from captioner.feed.static import PAGES, ROUTES
from tests.packaging.helpers import APP_ID, BuiltDeb, Installed, clean_env
from tests.support.net import free_port
from tests.support.repo import REPO
from tests.support.speech import TRANSCRIPTS, wer, words

pytestmark = pytest.mark.slow


def _run(args: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=clean_env(home), cwd=home, check=False
    )


def _desktop_entry(installed: Installed) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(installed.path(f"/usr/share/applications/{APP_ID}.desktop"), encoding="utf-8")
    return parser["Desktop Entry"]


def test_package_metadata_and_layout(built_deb: BuiltDeb) -> None:
    deb = built_deb.path
    fields = {
        k: subprocess.run(["dpkg-deb", "-f", str(deb), k], capture_output=True, text=True, check=True).stdout.strip()
        for k in ("Package", "Version", "Architecture", "Depends", "Installed-Size")
    }
    assert fields["Package"] == "captioner"
    assert fields["Version"] == __version__
    depends = [d.strip().split(" ")[0] for d in fields["Depends"].split(",")]
    for needed in ("libportaudio2", "libasound2-plugins", "libpulse0", "pulseaudio-utils", "libegl1", "libxcb1"):
        assert needed in depends, f"Depends lacks {needed}: {fields['Depends']}"
    assert re.search(r"libc6 \(>= 2\.\d+\)", fields["Depends"])
    assert int(fields["Installed-Size"]) > 50_000  # KiB: the bundle is really in there
    # zstd compression, as asked.
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True, check=True).stdout.split()
    assert members == ["debian-binary", "control.tar.zst", "data.tar.zst"]

    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    assert "/opt/captioner/captioner" in paths
    assert re.search(r"\./usr/bin/captioner -> /opt/captioner/captioner$", listing, re.M)
    for p in (
        f"/usr/share/applications/{APP_ID}.desktop",
        f"/usr/share/metainfo/{APP_ID}.metainfo.xml",
        f"/usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg",
        f"/usr/share/icons/hicolor/48x48/apps/{APP_ID}.png",
        f"/usr/share/icons/hicolor/128x128/apps/{APP_ID}.png",
        f"/usr/share/icons/hicolor/256x256/apps/{APP_ID}.png",
        "/usr/share/doc/captioner/copyright",
    ):
        assert p in paths, f"{p} is not in the package"
    # Files are owned by root, not by whoever built the package.
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}


def test_bundle_holds_what_it_needs_and_not_more(installed: Installed) -> None:
    internal = installed.path("/opt/captioner/_internal")
    plugins = internal / "PySide6" / "Qt" / "plugins"
    have = {str(p.relative_to(plugins)) for p in plugins.rglob("*.so")}
    for wanted in (
        "platforms/libqxcb.so",
        "platforms/libqoffscreen.so",
        "platforms/libqwayland.so",
        "wayland-shell-integration/libxdg-shell.so",
        "imageformats/libqsvg.so",
        "iconengines/libqsvgicon.so",
    ):
        assert wanted in have, f"Qt plugin {wanted} missing from the bundle"
    for unwanted in ("platformthemes/libqgtk3.so", "platforms/libqvnc.so", "platforms/libqeglfs.so"):
        assert unwanted not in have
    assert not any(d in have for d in ("sqldrivers", "qmltooling", "printsupport")), have
    names = {p.name for p in internal.rglob("*") if p.is_file()}
    assert not any(n.startswith(("libQt6WebEngine", "libQt6Qml", "libQt6Quick", "libgtk-3")) for n in names)
    # PortAudio and ALSA come from the system (Depends), never from the bundle.
    assert not any(n.startswith(("libportaudio", "libasound")) for n in names)
    # The local engine's model and the self-test sample are inside.
    assert (internal / "pocketsphinx" / "model" / "en-us" / "en-us.lm.bin").is_file()
    assert (internal / "pocketsphinx" / "model" / "en-us" / "cmudict-en-us.dict").is_file()
    assert (internal / "resources" / "samples" / "beckett.wav").is_file()
    # The neural engine's prepared model: nobody who installs waits for a download or a conversion.
    model = internal / "resources" / "models" / "moonshine-base-en"
    assert {"encoder_model.onnx", "decoder_model_merged.onnx"} <= {p.name for p in model.iterdir()}, model
    assert (internal / "resources" / "models" / "silero-vad" / "silero_vad.onnx").is_file()
    assert (internal / "resources" / "icons" / "captioner.svg").is_file()
    # The caption feed's pages, beside its modules.
    assert {p.name for p in (internal / "captioner" / "feed" / "pages").iterdir()} == {
        p.name for p in (REPO / "captioner" / "feed" / "pages").iterdir()
    }


def test_installed_command_serves_the_caption_feed(installed: Installed, tmp_path: Path) -> None:
    port = free_port()
    sample = installed.path("/opt/captioner/_internal/resources/samples/beckett.wav")
    command = [str(installed.exe), "caption", "--source", str(sample), "--serve", str(port), "--no-autosave"]
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(tmp_path), cwd=tmp_path
    ) as proc:
        assert proc.stderr is not None
        try:
            line = proc.stderr.readline()  # the first thing it says
            assert f"caption feed: http://127.0.0.1:{port}/" in line, line
            for path, (name, _type) in ROUTES.items():
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
                    assert answer.status == 200
                    assert answer.read() == (PAGES / name).read_bytes(), path
            proc.send_signal(signal.SIGINT)
            err = proc.communicate(timeout=60)[1]
        except BaseException:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_installed_version(installed: Installed, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = _run([str(installed.exe), "--version"], tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"captioner {__version__}"
    assert proc.stderr == ""
    print(f"installed captioner --version: {elapsed:.2f} s")


def test_installed_bundle_has_every_engine(installed: Installed, tmp_path: Path) -> None:
    # Engines are imported by name at run time: a module PyInstaller did not see would be missing here.
    import json

    from captioner.engines import registry

    proc = _run([str(installed.exe), "engines", "--json"], tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    records = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(records) == set(registry.ENGINES)
    for engine_id, rec in records.items():
        assert "not installed" not in rec["reason"], f"{engine_id}: {rec['reason']}"
        assert "sample_rate" in rec, f"{engine_id} could not be loaded from the bundle: {rec['reason']}"
    assert records["local"]["available"] is True, records["local"]["reason"]
    assert records["moonshine"]["available"] is True, records["moonshine"]["reason"]
    assert records["moonshine"]["reason"].startswith("ready"), records["moonshine"]["reason"]  # bundled: no first use


def test_installed_self_test_captions_the_sample(installed: Installed, tmp_path: Path) -> None:
    # No QT_QPA_PLATFORM and no DISPLAY in the environment: the self-test must choose offscreen itself.
    started = time.monotonic()
    proc = _run([str(installed.exe), "--self-test"], tmp_path, timeout=180)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "captioner self-test: OK" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The default neural engine ran from the bundled model (a fresh HOME: empty cache, nothing converted),
    # on the real sample: punctuated and close to what the reader says.
    assert "by moonshine" in proc.stderr, proc.stderr
    assert "preparing the speech model" not in proc.stderr
    heard = set(words(proc.stdout)) & set(words(TRANSCRIPTS["beckett.wav"]))
    assert len(heard) >= 3, f"only {heard} recognised in {proc.stdout!r}"
    error = wer(TRANSCRIPTS["beckett.wav"], proc.stdout)
    assert error <= 0.2, f"WER {error:.2f}: {proc.stdout!r}"
    assert any(c in proc.stdout for c in ".,!?"), proc.stdout
    print(f"installed captioner --self-test: {elapsed:.2f} s, WER {error:.2f}: {proc.stdout.strip()!r}")


def test_installed_self_test_fails_cleanly_without_its_sample(installed: Installed, tmp_path: Path) -> None:
    env_home = tmp_path
    env = clean_env(env_home) | {"CAPTIONER_RESOURCES_DIR": str(tmp_path / "nowhere")}
    proc = subprocess.run(
        [str(installed.exe), "--self-test"], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"captioner self-test: FAILED: the speech sample is missing: {tmp_path / 'nowhere' / 'samples' / 'beckett.wav'}"
    ]


def test_desktop_entry_validates_and_launches_the_command(installed: Installed) -> None:
    desktop = installed.path(f"/usr/share/applications/{APP_ID}.desktop")
    if shutil.which("desktop-file-validate") is None:
        pytest.fail("desktop-file-validate is missing: run scripts/setup --dev (TEST_DEBS: desktop-file-utils)")
    proc = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout.lower()
    entry = _desktop_entry(installed)
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    command = entry["Exec"].split()[0]
    assert command == "captioner"
    target = installed.path("/usr/bin/captioner")
    assert target.is_symlink() and Path(target.readlink()) == Path("/opt/captioner/captioner")
    if installed.into_machine:
        assert shutil.which(command, path="/usr/bin:/bin") == "/usr/bin/captioner"


def test_desktop_icon_resolves_in_the_hicolor_theme(installed: Installed, qapp: object) -> None:
    from PySide6.QtGui import QIcon

    icon_name = _desktop_entry(installed)["Icon"]
    assert icon_name == APP_ID
    icons = installed.path("/usr/share/icons")
    for size in ("48x48", "128x128", "256x256"):
        assert (icons / "hicolor" / size / "apps" / f"{icon_name}.png").is_file()
    assert (icons / "hicolor" / "scalable" / "apps" / f"{icon_name}.svg").is_file()
    # Resolve it the way a desktop does: the theme lookup by name, in the hicolor theme.
    old_paths, old_theme = QIcon.themeSearchPaths(), QIcon.themeName()
    try:
        QIcon.setThemeSearchPaths([str(icons)])
        QIcon.setThemeName("hicolor")
        icon = QIcon.fromTheme(icon_name)
        assert not icon.isNull(), f"{icon_name} does not resolve in {icons}/hicolor"
        from PySide6.QtCore import QSize

        # An explicit device pixel ratio of 1: the UI tests' offscreen set-up adds a high-DPI screen.
        image = icon.pixmap(QSize(48, 48), 1.0).toImage()
        assert image.width() == 48
        opaque = sum(1 for y in range(0, 48, 4) for x in range(0, 48, 4) if image.pixelColor(x, y).alpha() > 0)
        assert opaque > 20  # something is drawn, not a blank square
    finally:
        QIcon.setThemeSearchPaths(old_paths)
        QIcon.setThemeName(old_theme)


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[str]:
    """A private X server (Xvfb picks a free display number itself); yields the DISPLAY value."""
    if shutil.which("Xvfb") is None or shutil.which("xwininfo") is None:
        pytest.fail("Xvfb/xwininfo are missing: run scripts/setup --dev (TEST_DEBS: xvfb x11-utils)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()  # blocks until the server is ready
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)  # polling an external process: there is no signal to wait on
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def test_installed_app_launches_the_overlay_on_x11(installed: Installed, tmp_path: Path, xvfb: str) -> None:
    # What the desktop entry runs (Exec=captioner), on a real X server through the bundled xcb plugin.
    env = clean_env(tmp_path) | {"DISPLAY": xvfb}
    app = subprocess.Popen(
        [str(installed.exe)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def overlay_window() -> str | None:
            if app.poll() is not None:
                pytest.fail(f"the app exited with {app.returncode}: {app.stderr.read() if app.stderr else ''}")
            tree = subprocess.run(
                ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True, check=False
            ).stdout
            m = re.search(
                r"^\s*(0x[0-9a-f]+) \"Captioner captions[^\"]*\": \(\"captioner\" \"Captioner\"\)", tree, re.M
            )
            return m.group(1) if m else None

        window = str(_wait_for(overlay_window, 60, "the caption overlay window"))
        info = subprocess.run(["xwininfo", "-id", window], env=env, capture_output=True, text=True, check=True).stdout
        assert "Map State: IsViewable" in info
        # The desktop entry's StartupWMClass matches the window's WM_CLASS instance name.
        assert _desktop_entry(installed)["StartupWMClass"] == "captioner"
    finally:
        app.terminate()
        try:
            code = app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            raise
    assert code == 0, app.stderr.read() if app.stderr else ""


def test_appstream_metainfo_validates(installed: Installed) -> None:
    if shutil.which("appstreamcli") is None:
        pytest.skip("appstreamcli is not installed (optional)")
    metainfo = installed.path(f"/usr/share/metainfo/{APP_ID}.metainfo.xml")
    text = metainfo.read_text(encoding="utf-8")
    assert f'<release version="{__version__}"' in text
    assert "@VERSION@" not in text and "@DATE@" not in text
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""The installer recipes that cannot run here (Windows, macOS, hosted CI): their syntax and required entries.

Plus the pieces shared by every platform: the resources helper, icon rendering, the self-test from a
source checkout.
"""

from __future__ import annotations

import configparser
import os
import plistlib
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from captioner import __version__
from tests.packaging.helpers import APP_ID
from tests.support.repo import REPO

PACKAGING = REPO / "packaging"


# -- release workflow ---------------------------------------------------------------------------


def _workflow() -> dict:
    with open(REPO / ".github" / "workflows" / "release.yml", encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def test_release_workflow_builds_all_three_on_native_runners() -> None:
    wf = _workflow()
    assert {"name", "on", "jobs"} <= set(wf)
    assert "tags" in wf["on"]["push"] and "workflow_dispatch" in wf["on"]
    jobs = wf["jobs"]
    runners = {name: job["runs-on"] for name, job in jobs.items()}
    assert runners["linux-deb"].startswith("ubuntu-")
    assert runners["windows"].startswith("windows-")
    assert runners["macos"].startswith("macos-")
    for name in ("linux-deb", "windows", "macos"):
        steps = jobs[name]["steps"]
        assert all(isinstance(s, dict) and ("uses" in s or "run" in s) for s in steps), name
        uses = [s.get("uses", "") for s in steps]
        assert any(u.startswith("actions/checkout@") for u in uses)
        assert any(u.startswith("actions/setup-python@") for u in uses)
        upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert len(upload) == 1 and upload[0]["with"]["if-no-files-found"] == "error"
        runs = "\n".join(s.get("run", "") for s in steps)
        if "packaging/macos/build-dmg" in runs:
            runs += (PACKAGING / "macos" / "build-dmg").read_text(encoding="utf-8")
        assert "--self-test" in runs, f"{name} does not smoke-test what it built"
    assert "packaging/build-deb" in "\n".join(s.get("run", "") for s in jobs["linux-deb"]["steps"])
    assert "captioner.iss" in "\n".join(s.get("run", "") for s in jobs["windows"]["steps"])
    assert "packaging/macos/build-dmg" in "\n".join(s.get("run", "") for s in jobs["macos"]["steps"])
    assert set(jobs["publish"]["needs"]) == {"linux-deb", "windows", "macos"}


def test_release_workflow_scripts_it_calls_exist_and_are_executable() -> None:
    for script in ("packaging/build-deb", "packaging/macos/build-dmg", "scripts/setup"):
        path = REPO / script
        assert path.is_file() and os.access(path, os.X_OK), script
        proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr


def test_build_deb_rejects_unknown_options() -> None:
    proc = subprocess.run(
        [str(PACKAGING / "build-deb"), "--bogus"], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "build-deb: unknown option --bogus (see --help)"


# -- Windows: Inno Setup --------------------------------------------------------------------------


def _iss_sections() -> dict[str, list[str]]:
    """The script's sections, with ISPP ``#define``s expanded (as the Inno Setup preprocessor would)."""
    sections: dict[str, list[str]] = {}
    current = ""
    defines: dict[str, str] = {}
    for raw in (PACKAGING / "windows" / "captioner.iss").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        m = re.fullmatch(r'#define\s+(\w+)\s+"(.*)"', line)
        if m:
            defines[m.group(1)] = m.group(2)
            continue
        if not line or line.startswith((";", "#")):
            continue
        line = re.sub(r"\{#(\w+)\}", lambda d: defines.get(d.group(1), d.group(0)), line)
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            current = m.group(1)
            sections.setdefault(current, [])
        elif current:
            sections[current].append(line)
    return sections


def test_inno_setup_script_is_a_per_user_installer_with_start_menu_uninstaller_and_autostart() -> None:
    s = _iss_sections()
    assert {"Setup", "Files", "Icons", "Tasks", "Registry", "Run"} <= set(s)
    setup = dict(line.split("=", 1) for line in s["Setup"])
    assert setup["PrivilegesRequired"] == "lowest"  # per-user, no admin
    assert setup["DefaultDirName"].startswith("{autopf}")  # %LOCALAPPDATA%\Programs for a per-user install
    assert setup["AppId"].startswith("{{")
    assert setup.get("Uninstallable", "yes") == "yes"
    assert "UninstallDisplayIcon" in setup
    assert setup["SetupIconFile"].endswith(r"build\icons\captioner.ico")
    assert any("{autoprograms}" in line and "Captioner.exe" in line for line in s["Icons"])  # Start menu
    startup = [line for line in s["Tasks"] if line.startswith('Name: "startup"')]
    assert startup and "unchecked" in startup[0]  # optional, off by default
    run_key = [line for line in s["Registry"] if r"CurrentVersion\Run" in line]
    assert run_key and "Root: HKCU" in run_key[0] and "Tasks: startup" in run_key[0]
    assert "uninsdeletevalue" in run_key[0]  # the uninstaller removes the autostart entry
    assert any(r"dist\captioner\*" in line and "recursesubdirs" in line for line in s["Files"])


def test_spec_builds_the_executables_the_installers_expect() -> None:
    spec = (PACKAGING / "captioner.spec").read_text(encoding="utf-8")
    assert 'name="Captioner", console=False' in spec  # what the Windows Start menu runs
    assert 'name="captioner-cli", console=True' in spec  # --version/--self-test on Windows
    assert 'name="Captioner.app"' in spec
    assert 'collect_data_files("soundcard")' in spec  # WASAPI loopback on Windows
    assert 'collect_data_files("pocketsphinx")' in spec
    assert "upx=False" in spec
    assert "COLLECT(" in spec  # one-folder: a one-file build unpacks itself on every start


# -- macOS ----------------------------------------------------------------------------------------


def test_macos_info_plist_has_the_usage_descriptions() -> None:
    with open(PACKAGING / "macos" / "Info.plist", "rb") as f:
        info = plistlib.load(f)
    assert info["CFBundleIdentifier"] == APP_ID
    for key in ("NSMicrophoneUsageDescription", "NSAudioCaptureUsageDescription", "NSScreenCaptureUsageDescription"):
        assert isinstance(info[key], str) and len(info[key]) > 20, key
    with open(PACKAGING / "macos" / "entitlements.plist", "rb") as f:
        entitlements = plistlib.load(f)
    assert entitlements["com.apple.security.device.audio-input"] is True


def test_build_dmg_signs_and_notarises_only_when_configured() -> None:
    script = (PACKAGING / "macos" / "build-dmg").read_text(encoding="utf-8")
    assert "hdiutil create" in script
    assert 'if [[ -n "${CAPTIONER_CODESIGN_IDENTITY:-}" ]]' in script
    assert "xcrun notarytool submit" in script and "xcrun stapler staple" in script
    assert "--options runtime" in script and "entitlements.plist" in script


# -- Linux desktop files (source copies) ----------------------------------------------------------


def test_desktop_file_and_metainfo_in_the_source_agree() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(PACKAGING / "linux" / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    metainfo = (PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    assert f"<id>{APP_ID}</id>" in metainfo
    assert f'<launchable type="desktop-id">{APP_ID}.desktop</launchable>' in metainfo
    assert entry["Icon"] == APP_ID
    assert "<binary>captioner</binary>" in metainfo and entry["Exec"].split()[0] == "captioner"


# -- shared pieces --------------------------------------------------------------------------------


def test_resource_path_finds_the_checkout_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from captioner.resources import resource_path, resources_dir

    monkeypatch.delenv("CAPTIONER_RESOURCES_DIR", raising=False)
    assert resources_dir() == REPO / "resources"
    assert resource_path("samples", "beckett.wav").is_file()
    assert resource_path("icons", "captioner.svg").is_file()
    # In a PyInstaller bundle, the resources are under sys._MEIPASS.
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("samples", "beckett.wav") == tmp_path / "resources" / "samples" / "beckett.wav"
    monkeypatch.setenv("CAPTIONER_RESOURCES_DIR", str(tmp_path / "elsewhere"))
    assert resources_dir() == tmp_path / "elsewhere"


def test_bundled_sample_is_the_speech_fixture_and_is_attributed() -> None:
    from tests.support.speech import speech_wav

    sample = REPO / "resources" / "samples" / "beckett.wav"
    assert sample.read_bytes() == speech_wav("beckett.wav").read_bytes()
    licence = (REPO / "resources" / "samples" / "LICENSE").read_text(encoding="utf-8")
    assert "moonshine-voice" in licence and "MIT License" in licence


def test_render_icons_writes_pngs_ico_and_icns(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(PACKAGING / "render_icons.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    png_magic = b"\x89PNG\r\n\x1a\n"
    for size in (16, 48, 128, 256, 512):
        data = (tmp_path / "hicolor" / f"{size}x{size}" / "apps" / "captioner.png").read_bytes()
        assert data.startswith(png_magic)
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (size, size)
    ico = (tmp_path / "captioner.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count == 7
    dims = []
    for i in range(count):
        w, _h, _c, _r, _planes, _bpp, size, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i])
        assert ico[offset : offset + 8] == png_magic and offset + size <= len(ico)
        dims.append(w or 256)
    assert 256 in dims and 16 in dims
    icns = (tmp_path / "captioner.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, pos = [], 8
    while pos < len(icns):
        kind_b, length = icns[pos : pos + 4], struct.unpack(">I", icns[pos + 4 : pos + 8])[0]
        assert icns[pos + 8 : pos + 16] == png_magic
        kinds.append(kind_b)
        pos += length
    assert pos == len(icns) and {b"ic07", b"ic08", b"ic09"} <= set(kinds)


def test_render_icons_reports_a_missing_svg(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(PACKAGING / "render_icons.py"), "--svg", str(tmp_path / "no.svg"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"render_icons: no such file: {tmp_path / 'no.svg'}"


def test_self_test_from_the_source_checkout(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-m", "captioner", "--self-test"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    from tests.support.speech import TRANSCRIPTS, words

    heard = set(words(proc.stdout)) & set(words(TRANSCRIPTS["beckett.wav"]))
    assert len(heard) >= 3, f"only {heard} recognised in {proc.stdout!r}"
    assert proc.stderr.strip().splitlines()[-1].startswith("captioner self-test: OK")


def test_self_test_reports_a_missing_sample_in_one_line(tmp_path: Path) -> None:
    env = os.environ | {"CAPTIONER_RESOURCES_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "captioner", "--self-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"captioner self-test: FAILED: the speech sample is missing: {tmp_path / 'samples' / 'beckett.wav'}"
    ]


def test_version_matches_the_package() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "captioner", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"captioner {__version__}"

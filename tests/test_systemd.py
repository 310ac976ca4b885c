"""The systemd unit: `systemd-analyze verify` passes and `security --offline=yes` rates it 4 or less (skipped with a
reason where systemd-analyze is absent); the hardening directives, the directories and the exports are there;
the cron variant names its log directory and ships a logrotate snippet for it."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT_DIR = ROOT / "pipelines" / "systemd"
SERVICE = UNIT_DIR / "incidents-ingest.service"
TIMER = UNIT_DIR / "incidents-ingest.timer"
CRON = ROOT / "pipelines" / "cron"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")


def service_lines() -> dict[str, list[str]]:
    """Every Key=value of [Service], a key given several times keeping each value."""
    out: dict[str, list[str]] = {}
    section = None
    for raw in SERVICE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def installed_copy(tmp_path: Path) -> Path:
    """The unit with its binary pointed at this checkout's console script (verify checks it is executable)."""
    exe = Path(sys.executable).with_name("incidents")
    if not exe.exists():
        pytest.skip(f"no console script at {exe}")
    for unit in (SERVICE, TIMER):
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/incidents/.venv/bin/incidents", str(exe)))
    return tmp_path / SERVICE.name


@needs_analyze
def test_systemd_analyze_verify_passes(tmp_path):
    service = installed_copy(tmp_path)
    proc = subprocess.run([ANALYZE, "verify", str(service), str(tmp_path / TIMER.name)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in (proc.stdout + proc.stderr).splitlines()
                if "incidents-ingest" in line]  # verify also mentions unrelated units of the host
    assert proc.returncode == 0 and problems == [], proc.stdout + proc.stderr


@needs_analyze
def test_security_exposure_is_at_most_4(tmp_path):
    service = installed_copy(tmp_path)
    proc = subprocess.run([ANALYZE, "security", "--offline=yes", "--no-pager", str(service)],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", proc.stdout + proc.stderr)
    assert found, proc.stdout + proc.stderr
    assert float(found.group(1)) <= 4.0, proc.stdout


def test_the_unit_states_its_hardening():
    s = service_lines()
    one = {k: v[-1] for k, v in s.items()}
    assert one["CapabilityBoundingSet"] == "" and one["UMask"] == "0027"
    assert one["RestrictAddressFamilies"].split() == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert "@system-service" in s["SystemCallFilter"]
    for key in ("PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectControlGroups", "LockPersonality", "RestrictNamespaces", "NoNewPrivileges", "ProtectHome",
                "PrivateTmp", "DynamicUser"):
        assert one[key] == "yes", key
    assert one["ProtectSystem"] == "strict"
    assert "User" not in one  # DynamicUser: no account to create


def test_the_unit_keeps_state_and_caches_and_exports_incidents_and_reports():
    s = service_lines()
    one = {k: v[-1] for k, v in s.items()}
    assert one["StateDirectory"] == "incidents" and one["CacheDirectory"] == "incidents"
    env = dict(e.split("=", 1) for e in s["Environment"])
    assert env["INCIDENTS_CACHE_DIR"] == "/var/cache/incidents"  # the regex cache of extractor/nlp.py
    nlp = (ROOT / "extractor" / "nlp.py").read_text(encoding="utf-8")
    assert 'os.environ.get("INCIDENTS_CACHE_DIR")' in nlp
    posts = s["ExecStartPost"]
    assert any(" export " in p and "--incidents" in p for p in posts)
    assert any(" export " in p and "--incidents" not in p for p in posts)
    assert all("/var/lib/incidents/" in p for p in posts)


def test_the_timer_starts_the_service():
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(TIMER)
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"


def test_cron_names_its_log_directory_and_ships_a_logrotate_snippet():
    cron = (CRON / "incidents.cron").read_text(encoding="utf-8")
    logs = set(re.findall(r">>(/var/log/incidents/\S+\.log)", cron))
    assert logs and "incidents.logrotate" in cron and "useradd --system" in cron
    rotate = (CRON / "incidents.logrotate").read_text(encoding="utf-8")
    assert "/var/log/incidents/*.log {" in rotate and re.search(r"^\s*rotate \d+", rotate, re.M)
    assert "--incidents" in cron

"""Shared fixtures: a secret PII key, temporary homes, and generated extracts."""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.generate import GenerateRequest, GenerateSummary, generate
from pipelines.settings import DEMO_ENV, HOME_ENV, PII_KEY_ENV, START_DATE_ENV, Settings

TEST_PII_KEY = "test-key-0123456789abcdef-not-for-production"
# Twelve days spanning a month end, so wrong-period ledger postings have a month to land in;
# long enough for an acute prescription to expire inside the window.
GENERATED = GenerateRequest(start=date(2024, 3, 25), days=12, scale=0.05, seed=7, anomalies=0.01)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """Every test runs with a real (test) PII key, outside demo mode, with its own home."""
    monkeypatch.setenv(PII_KEY_ENV, TEST_PII_KEY)
    monkeypatch.delenv(DEMO_ENV, raising=False)
    monkeypatch.delenv(START_DATE_ENV, raising=False)
    monkeypatch.setenv(HOME_ENV, str(tmp_path_factory.mktemp("default-home")))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster-home")))


@pytest.fixture
def home(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home", start_date=date(2024, 1, 1))
    settings.landing.mkdir(parents=True)
    return settings


@pytest.fixture(scope="session")
def generated_home(tmp_path_factory) -> tuple[Settings, GenerateSummary]:
    """One generated home for the session (read it, copy it before changing it)."""
    settings = Settings(home=tmp_path_factory.mktemp("generated") / "home")
    summary = generate(settings.landing, settings.truth, GENERATED)
    return settings, summary


@pytest.fixture(scope="session")
def clean_generated_home(tmp_path_factory) -> Settings:
    """The same generated home without identity noise: the clean generator's own rules."""
    settings = Settings(home=tmp_path_factory.mktemp("generated-clean") / "home")
    generate(settings.landing, settings.truth, dataclasses.replace(GENERATED, identity_noise=0))
    return settings


@pytest.fixture
def generated_copy(generated_home, tmp_path) -> Settings:
    source, _ = generated_home
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(source.home, settings.home)
    return settings


def pii_key() -> bytes:
    return os.environ[PII_KEY_ENV].encode()


def repo_path(*parts: str) -> Path:
    return Path(__file__).resolve().parents[1].joinpath(*parts)


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory) -> Path:
    """Parse the dbt project once (dbt reads YECAI_HOME while parsing)."""
    from pipelines.transform.dbt_project import prepare_manifest

    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(tmp_path_factory.mktemp("parse-home"))
    try:
        return prepare_manifest()
    finally:
        if previous is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = previous


LAST_DAY = GENERATED.start + timedelta(days=GENERATED.days - 1)


def run_windows(settings: Settings, windows) -> None:
    """Run the pipeline in process over each (start, end); every run must publish."""
    from pipelines.orchestrate import run_window

    previous = os.environ.get(PII_KEY_ENV)
    os.environ[PII_KEY_ENV] = TEST_PII_KEY
    try:
        for start, end in windows:
            outcome = run_window(settings, start, end)
            assert outcome.exit_code == 0, outcome.message + "\n" + "\n".join(outcome.details)
    finally:
        if previous is None:
            os.environ.pop(PII_KEY_ENV, None)
        else:
            os.environ[PII_KEY_ENV] = previous


@pytest.fixture(scope="session")
def pipeline_home(generated_home, tmp_path_factory, dbt_manifest) -> Settings:
    """The generated extracts ingested, built, gated and published in one run."""
    source, _ = generated_home
    settings = Settings(home=tmp_path_factory.mktemp("pipeline") / "home")
    shutil.copytree(source.home, settings.home)
    run_windows(settings, [(GENERATED.start, LAST_DAY)])
    return settings

"""Every environment variable the project reads is a setting of liptwitch/settings.py, with one default; the scripts
and deployment files name no variable the code does not know."""

from __future__ import annotations

import re

import pytest

from liptwitch import settings
from tests.helpers import REPO

NAMED_IN = ["scripts/run.sh", "Makefile", "deploy/credentials.yml", "deploy/endpoints.yml", "credentials.yml",
            "endpoints.yml", "deploy/helm/rasa-values.yaml", "deploy/helm/action-server-values.yaml"]


@pytest.mark.parametrize("path", NAMED_IN)
def test_the_scripts_and_deployment_files_name_only_known_settings(path):
    named = set(re.findall(r"\bLIPTWITCH_[A-Z_]+\b", (REPO / path).read_text()))
    assert named - {setting.name for setting in settings.ALL} == set()


def test_each_setting_is_declared_once_and_explained():
    names = [setting.name for setting in settings.ALL]
    assert len(names) == len(set(names))
    assert all(setting.meaning for setting in settings.ALL)


def test_a_setting_left_empty_takes_its_default_and_a_set_one_is_read_when_used():
    assert settings.RETENTION.read({}) == "30d"
    assert settings.RETENTION.read({"LIPTWITCH_RETENTION": "  "}) == "30d"
    assert settings.RETENTION.read({"LIPTWITCH_RETENTION": " 12h "}) == "12h"
    assert not settings.HANDOFF_URL.is_set({}) and settings.HANDOFF_URL.is_set({"LIPTWITCH_HANDOFF_URL": "https://x"})


def test_the_chat_pages_origin_is_allowed_unless_origins_are_configured():
    assert settings.cors_origins(8080, {}) == ("http://localhost:8080", "http://127.0.0.1:8080")
    configured = {"LIPTWITCH_CORS_ORIGINS": "https://chat.example.org, https://www.example.org"}
    assert settings.cors_origins(8080, configured) == ("https://chat.example.org", "https://www.example.org")
    assert settings.cors_origins(None, {}) == ()


def test_the_paths_point_into_the_repository():
    assert (settings.KNOWLEDGE_BASE_DIRECTORY / "red_flags.yml").is_file()
    assert (settings.SAFETY_NET_DIRECTORY / "lexicon.yml").is_file()
    assert settings.SPACY_PIPELINE.is_relative_to(settings.BUILD)

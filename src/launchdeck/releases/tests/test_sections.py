"""The release page's section registry: later apps add cards to the release page without the releases app knowing."""

import pytest

from launchdeck.releases.sections import (
    ReleaseSection,
    register_release_section,
    release_sections_for,
    unregister_release_section,
)
from launchdeck.releases.tests.factories import ReleaseFactory


@pytest.fixture
def fake_section():
    seen = []

    def context(release, user):
        seen.append((release, user))
        return {"note": f"Fake note for {release.name}"}

    register_release_section(
        ReleaseSection(
            key="fake",
            title="Fake section",
            template="releases/tests/_fake_section.html",
            context=context,
            permission="releases.view_release",
            order=1,
        )
    )
    yield seen
    unregister_release_section("fake")


def test_sections_are_offered_in_order_to_users_holding_their_permission(fake_section, viewer, make_user):
    register_release_section(
        ReleaseSection(key="secret", title="Secret", template="x.html", context=dict, permission="nobody.has_this")
    )
    try:
        keys = [section.key for section in release_sections_for(viewer)]
    finally:
        unregister_release_section("secret")
    assert keys[0] == "fake" and "secret" not in keys


def test_a_section_needs_a_key_and_a_title():
    with pytest.raises(ValueError, match="needs a key and a title"):
        register_release_section(ReleaseSection(key="", title="x", template="x.html", context=dict))


def test_the_release_page_renders_each_section_with_its_data(client, viewer, fake_section, settings, tmp_path):
    folder = tmp_path / "releases" / "tests"
    folder.mkdir(parents=True)
    (folder / "_fake_section.html").write_text('<p data-testid="fake">{{ section.note }}</p>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0].get("DIRS", []), str(tmp_path)]},
        *settings.TEMPLATES[1:],
    ]
    release = ReleaseFactory(name="Ledger")
    client.force_login(viewer)
    page = client.get(release.get_absolute_url()).content.decode()
    assert 'data-bs-target="#tab-fake"' in page and "Fake section" in page
    assert '<p data-testid="fake">Fake note for Ledger</p>' in page
    assert fake_section == [(release, viewer)]

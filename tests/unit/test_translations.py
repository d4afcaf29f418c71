"""Japanese is the first language: every string the code or a template shows has a translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir

from kyodo.manifest import load_manifests
from kyodo.web import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "platform" / "kyodo", *(ROOT / m.name for m in load_manifests())]
METHODS = [("**/static/**", "ignore"), ("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for source in SOURCES:
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            source, METHODS, OPTIONS, keywords={"_": None, "gettext": None, "ngettext": (1, 2)}
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, f"{source.name}/{filename}:{lineno}")
    return found


def test_every_message_has_a_japanese_translation():
    i18n.load_catalogs([i18n.KERNEL_LOCALE_DIR, *(m.locale for m in load_manifests() if m.locale)])
    i18n.set_locale("ja")
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in extracted_msgids().items()
        if i18n.gettext(msgid) == msgid
    ]
    assert not missing, "untranslated messages:\n" + "\n".join(sorted(missing))


def test_english_is_the_msgid_and_japanese_is_the_default():
    i18n.set_locale("en")
    assert i18n.gettext("Please sign in.") == "Please sign in."
    i18n.set_locale("xx")
    assert i18n.current_locale() == "ja"

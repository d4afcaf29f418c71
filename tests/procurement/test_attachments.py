"""Attachments: only real PDF and Office files, at most 10 MB, with safe names, downloaded as
attachments with nosniff, and seen by exactly whoever may see their need."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.db import Database, utcnow
from kyodo.errors import InvalidInput
from kyodo.settings import Settings
from procurement import attachments, needs
from procurement.actors import Actor
from procurement.models import Attachment
from tests import support
from tests.procurement.needs_support import PEOPLE, member, need_in_state, signed_in

Client = Callable[[str], Awaitable[AsyncTestClient]]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OLE2 = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
OOXML = "application/vnd.openxmlformats-officedocument."


def office(main: str, part: str = "word/document.xml") -> bytes:
    """A minimal Office Open XML package whose manifest names `main` as its main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{part}" ContentType="{main}"/></Types>',
        )
        z.writestr(part, "<document/>")
    return buffer.getvalue()


DOCX = office(f"{OOXML}wordprocessingml.document.main+xml")
XLSX = office(f"{OOXML}spreadsheetml.sheet.main+xml", "xl/workbook.xml")
PPTX = office(f"{OOXML}presentationml.presentation.main+xml", "ppt/presentation.xml")
DOCM = office("application/vnd.ms-word.document.macroEnabled.main+xml")


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PDF, "仕様書.pdf", "application/pdf"),
        (PDF, "SPEC.PDF", "application/pdf"),
        (OLE2, "見積.xls", "application/vnd.ms-excel"),
        (OLE2, "old.doc", "application/msword"),
        (DOCX, "仕様書.docx", f"{OOXML}wordprocessingml.document"),
        (XLSX, "数量表.xlsx", f"{OOXML}spreadsheetml.sheet"),
        (PPTX, "説明.pptx", f"{OOXML}presentationml.presentation"),
    ],
)
def test_office_and_pdf_files_are_known_by_their_bytes(data, name, expected):
    assert attachments.content_type(data, name) == expected


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00" + b"\0" * 100, "invoice.pdf"),  # a Windows program named as a PDF
        (b"<html><script>alert(1)</script>", "page.pdf"),
        (b"plain text", "memo.docx"),
        (PDF, "spec.docx"),  # a PDF named as Word: the name would lie
        (DOCX, "spec.pdf"),
        (DOCX, "spec.xlsx"),  # Word inside, Excel outside
        (DOCM, "macro.docx"),  # macro-enabled: refused
        (office("application/zip", "x.bin"), "archive.docx"),  # a ZIP, but no Office part
        (b"PK\x03\x04" + b"broken zip", "broken.docx"),
        (PDF, "noextension"),
        (b"", "empty.pdf"),
    ],
)
def test_other_files_are_refused_whatever_their_name(data, name):
    with pytest.raises(InvalidInput) as caught:
        attachments.content_type(data, name)
    assert set(caught.value.errors) == {"file"}


def test_a_zip_bomb_manifest_is_not_inflated():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b" " * (attachments.MAX_CONTENT_TYPES_XML + 1))
    with pytest.raises(InvalidInput):
        attachments.content_type(buffer.getvalue(), "bomb.docx")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\tanaka\\Desktop\\仕様書.pdf", "仕様書.pdf"),
        ("spec\u202efdp.exe", "specfdp.exe"),  # the right-to-left override is gone
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ('re"port<1>|?*.pdf', "re_port_1____.pdf"),
        ("  .hidden.pdf. ", "hidden.pdf"),
        ("仕様書　第２版.pdf", "仕様書　第２版.pdf"),  # a full-width space is kept
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        ("ｶﾞ.pdf", "ｶﾞ.pdf"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert attachments.clean_filename(raw) == clean


# -- over HTTP ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def people(seeded: Settings) -> dict[str, Actor]:
    db = Database(seeded.database_url)
    try:
        return {
            name: await member(db, seeded, email, slug, roles)
            for name, (email, slug, roles) in PEOPLE.items()
        }
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
async def client(seeded: Settings, people) -> AsyncIterator[Client]:
    async with AsyncExitStack() as stack:
        made: dict[str, AsyncTestClient] = {}

        async def get(name: str) -> AsyncTestClient:
            if name not in made:
                made[name] = await stack.enter_async_context(signed_in(seeded, PEOPLE[name][0]))
            return made[name]

        yield get


def need_url(who: str, need_id) -> str:
    return f"/o/{PEOPLE[who][1]}/procurement/needs/{need_id}"


async def upload(c: AsyncTestClient, who: str, need_id, name: str, data: bytes, mime="x/y"):
    await c.get(f"/o/{PEOPLE[who][1]}/")  # any page sets the CSRF cookie
    headers = {"x-csrftoken": support.csrf_token(c)}
    return await c.post(
        f"{need_url(who, need_id)}/attachments",
        files={"file": (name, data, mime)},
        headers=headers,
        follow_redirects=False,
    )


async def attached(db: Database, people, need_id) -> list[Attachment]:
    async with db.session(people["officer"].scope) as s:
        return list(await s.scalars(select(Attachment).where(Attachment.need_id == need_id)))


async def test_upload_store_and_download_as_an_attachment(db, people, client):
    need_id = await need_in_state(db, people, "draft")
    officer = await client("officer")
    # The browser claims text/html; the stored type comes from the bytes.
    sent = await upload(officer, "officer", need_id, "../仕様書 (案).pdf", PDF, "text/html")
    assert sent.status_code == 303, sent.text
    [row] = await attached(db, people, need_id)
    assert row.filename == "仕様書 (案).pdf" and row.content_type == "application/pdf"
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    page = await officer.get(need_url("officer", need_id))
    assert "仕様書 (案).pdf" in page.text and "ファイルを添付しました。" in page.text
    got = await officer.get(f"{need_url('officer', need_id)}/attachments/{row.id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E4%BB%95%E6%A7%98%E6%9B%B8%20%28%E6%A1%88%29.pdf" in disposition


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("virus.pdf", b"MZ" + b"\0" * 64, "PDF、Word、Excel、PowerPoint"),
        ("spec.docx", PDF, "PDF、Word、Excel、PowerPoint"),
        ("empty.pdf", b"", "添付するファイルを選んでください。"),
        ("big.pdf", PDF + b"\0" * (attachments.MAX_BYTES + 1 - len(PDF)), "10MBを超えています"),
    ],
)
async def test_bad_files_are_refused_with_a_message_by_the_field(
    db, people, client, name, data, message
):
    need_id = await need_in_state(db, people, "draft")
    officer = await client("officer")
    refused = await upload(officer, "officer", need_id, name, data)
    assert refused.status_code == 400, refused.text[:300]
    assert message in refused.text
    assert 'id="attachment-file-error"' in refused.text
    assert await attached(db, people, need_id) == []


async def test_a_body_far_over_the_limit_is_413_not_500(db, people, client):
    need_id = await need_in_state(db, people, "draft")
    officer = await client("officer")
    huge = await upload(officer, "officer", need_id, "huge.pdf", PDF + b"\0" * (12 << 20))
    assert huge.status_code == 413


async def test_who_may_upload_and_when(db, people, client):
    draft = await need_in_state(db, people, "draft")
    published = await need_in_state(db, people, "published")
    staff = await client("staff")
    assert (await upload(staff, "staff", draft, "a.pdf", PDF)).status_code == 403
    machida = await client("other_officer")
    assert (await upload(machida, "other_officer", draft, "a.pdf", PDF)).status_code == 404
    officer = await client("officer")
    late = await upload(officer, "officer", published, "a.pdf", PDF)
    assert late.status_code == 409
    assert "下書きか差戻しの間だけ" in late.text


async def test_attachments_are_seen_by_whoever_sees_the_need(db, people, client):
    officer, approver = people["officer"], people["approver"]
    need_id = await need_in_state(db, people, "draft")
    async with db.session(officer.scope) as s:
        row = await attachments.add(s, officer, need_id, "数量表.xlsx", XLSX)
    path = f"/attachments/{row.id}"
    machida, vendor = await client("other_officer"), await client("vendor")
    assert (await machida.get(need_url("other_officer", need_id) + path)).status_code == 404
    async with db.session(officer.scope) as s:
        await needs.submit_need(s, officer, need_id, utcnow())
    async with db.session(approver.scope) as s:
        await needs.approve_need(s, approver, need_id, utcnow())
    seen = await machida.get(need_url("other_officer", need_id) + path)
    assert seen.status_code == 200 and seen.content == XLSX
    assert (await vendor.get(need_url("vendor", need_id) + path)).status_code == 404
    detail = await machida.get(f"/api/v1/o/132098/procurement/needs/{need_id}")
    assert detail.json()["attachments"][0]["filename"] == "数量表.xlsx"


async def test_removing_an_attachment_from_a_draft(db, people, client):
    officer = people["officer"]
    need_id = await need_in_state(db, people, "draft")
    async with db.session(officer.scope) as s:
        row = await attachments.add(s, officer, need_id, "説明.pptx", PPTX)
    c = await client("officer")
    await c.get(need_url("officer", need_id))
    removed = await c.post(
        f"{need_url('officer', need_id)}/attachments/{row.id}/delete",
        headers={"x-csrftoken": support.csrf_token(c)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert await attached(db, people, need_id) == []

"""Attachments of a need: PDF and Office files up to 10 MB, stored in the database.

What a file is comes from its bytes, never from its name or the browser's content type: a PDF
starts with `%PDF-`; legacy Office files (.doc/.xls/.ppt) are OLE2 compound files; current
ones (.docx/.xlsx/.pptx) are ZIP archives whose [Content_Types].xml names a Word, Excel or
PowerPoint main part (macro-enabled variants are refused). The name must also carry an
extension of that kind, so a download never opens as something other than what it says.
The stored content type is ours, and downloads are sent as attachments with nosniff.

Attachments are read by whoever may read their need (the table's rule mirrors the need's);
the owner's procurement officers add and remove them while the need is a draft or returned.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
import zlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from kyodo import audit
from kyodo.errors import Conflict, InvalidInput, NotFound
from kyodo.web.i18n import _
from procurement.actors import Actor
from procurement.models import Attachment
from procurement.needs import EDITABLE, OFFICER, PUBLIC_BODIES, own_need

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_NEED = 20
MAX_NAME = 200
MAX_CONTENT_TYPES_XML = 1024 * 1024  # a real one is a few kB; refuse to inflate more

PDF_MAGIC = b"%PDF-"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGIC = b"PK\x03\x04"

PDF = {"pdf": "application/pdf"}
OLE2 = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
_OOXML = "application/vnd.openxmlformats-officedocument."
# The main part's content type in [Content_Types].xml -> (extension, the file's content type)
OOXML = {
    f"{_OOXML}wordprocessingml.document.main+xml": ("docx", f"{_OOXML}wordprocessingml.document"),
    f"{_OOXML}spreadsheetml.sheet.main+xml": ("xlsx", f"{_OOXML}spreadsheetml.sheet"),
    f"{_OOXML}presentationml.presentation.main+xml": (
        "pptx",
        f"{_OOXML}presentationml.presentation",
    ),
}


def clean_filename(raw: str) -> str:
    """A file name safe to store and to put in a header: no path, no control or format
    characters (a right-to-left override could make `cod.exe` look like `exe.doc`), none of
    the characters Windows forbids, at most 200 characters with the extension kept."""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", raw))[-1]
    name = "".join(_safe_char(ch) for ch in name)
    name = re.sub(r'[<>:"|?*]', "_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if dot and len(name) > MAX_NAME:
        name = f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}"
    return name[:MAX_NAME]


def _safe_char(ch: str) -> str:
    category = unicodedata.category(ch)
    # controls, format characters (bidi overrides, zero-width) and line breaks
    return "" if category[0] == "C" or category in ("Zl", "Zp") else ch


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def content_type(data: bytes, name: str) -> str:
    """The content type of an allowed file, or InvalidInput."""
    if data.startswith(PDF_MAGIC):
        kinds = PDF
    elif data.startswith(OLE2_MAGIC):
        kinds = OLE2
    elif data.startswith(ZIP_MAGIC):
        kinds = _office_open_xml(data)
    else:
        kinds = {}
    found = kinds.get(extension(name))
    if found is None:
        raise InvalidInput(
            {"file": _("Upload a PDF, Word, Excel or PowerPoint file with a matching extension.")}
        )
    return found


def _office_open_xml(data: bytes) -> dict[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_XML:
                return {}
            types = archive.read(info)
    except (zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError, EOFError, zlib.error):
        return {}  # not a ZIP, no manifest, encrypted or damaged: not an Office file
    return {
        ext: ctype
        for main, (ext, ctype) in OOXML.items()
        if f'ContentType="{main}"'.encode() in types
    }


async def add(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, filename: str, data: bytes
) -> Attachment:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    need = await own_need(session, actor, need_id)
    _editable(need.status)
    name = clean_filename(filename)
    if not data:
        raise InvalidInput({"file": _("Choose a file to upload.")})
    if len(data) > MAX_BYTES:
        raise InvalidInput({"file": _("The file is larger than {n} MB.").format(n=MAX_BYTES >> 20)})
    ctype = content_type(data, name)
    count = await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.need_id == need.id)
    )
    if count >= MAX_PER_NEED:
        raise InvalidInput(
            {"file": _("A need can have at most {n} attachments.").format(n=MAX_PER_NEED)}
        )
    attachment = Attachment(
        tenant_id=actor.org.id,
        need_id=need.id,
        filename=name,
        content_type=ctype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=actor.person_id,
    )
    session.add(attachment)
    await session.flush()
    await audit.record(
        session, "attachment.added", "need", need.id, f"{name} sha256={attachment.sha256}"
    )
    return attachment


async def remove(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, attachment_id: uuid.UUID
) -> None:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    need = await own_need(session, actor, need_id)
    attachment = await session.get(Attachment, (actor.org.id, attachment_id))
    if attachment is None or attachment.need_id != need.id:
        raise NotFound
    _editable(need.status)
    await session.delete(attachment)
    await audit.record(
        session, "attachment.removed", "need", need.id, f"{attachment.filename} {attachment.id}"
    )


async def of_need(session: AsyncSession, need_id: uuid.UUID) -> list[Attachment]:
    """The attachments of a need the session's scope may read (content not loaded)."""
    return list(
        await session.scalars(
            select(Attachment)
            .where(Attachment.need_id == need_id)
            .order_by(Attachment.uploaded_at, Attachment.id)
        )
    )


async def download(
    session: AsyncSession, need_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    found = await session.scalar(
        select(Attachment)
        .options(undefer(Attachment.content))
        .where(Attachment.need_id == need_id, Attachment.id == attachment_id)
    )
    if found is None:
        raise NotFound
    return found


def _editable(status: str) -> None:
    if status not in EDITABLE:
        raise Conflict(_("Attachments can be changed only while the need is a draft or returned."))

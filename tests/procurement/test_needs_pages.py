"""The needs pages as officials use them: in Japanese, errors next to their fields, forms that
work without script and with htmx."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from kyodo.db import Database, utcnow
from kyodo.settings import Settings
from kyodo.web.i18n import TOKYO
from procurement import needs
from procurement.actors import Actor
from tests import support
from tests.procurement.needs_support import DAY, PEOPLE, member, need_in_state, signed_in

Client = Callable[[str], Awaitable[AsyncTestClient]]
BASE = "/o/131016/procurement"
MACHIDA = "/o/132098/procurement"


@pytest.fixture(scope="module")
async def people(seeded: Settings) -> dict[str, Actor]:
    db = Database(seeded.database_url)
    try:
        found = {
            name: await member(db, seeded, email, slug, roles)
            for name, (email, slug, roles) in PEOPLE.items()
        }
        machida = found["other_officer"]
        admin = Actor(machida.org, machida.person_id, frozenset({"admin"}))
        async with db.session(admin.scope) as s:  # 町田市 joins without an approval step
            await needs.configure(s, admin, approval_required=False)
        return found
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


async def csrf(c: AsyncTestClient, page: str) -> dict[str, str]:
    """Load a page (which sets the CSRF cookie) and return the header a form post needs."""
    assert (await c.get(page)).status_code == 200
    return {"x-csrftoken": support.csrf_token(c)}


def draft_form(**overrides: str) -> dict[str, str]:
    deadline = (utcnow() + 10 * DAY).astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "窓口用タブレット",
        "category": "devices",
        "specification": "10インチ\r\nLTE対応",
        "unit": "台",
        "quantity": "２０",  # full-width digits, as a Japanese keyboard may type them
        "estimated_unit_price": "65,000",
        "desired_delivery": "",
        "join_deadline": deadline,
    }
    form.update(overrides)
    return form


def row(html: str, need_id) -> str:
    """The pool table's row of one need."""
    match = re.search(rf'<tr>\s*<th scope="row" id="need-{need_id}".*?</tr>', html, re.S)
    assert match, f"need {need_id} is not in the pool"
    return match.group(0)


def field_tag(html: str, control_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{control_id}"[^>]*>', html)
    assert match, f"no control {control_id}"
    return match.group(0)


async def test_draft_form_shows_errors_next_to_fields_in_japanese(client):
    officer = await client("officer")
    headers = await csrf(officer, f"{BASE}/needs/new")
    bad = draft_form(title="", quantity="たくさん", join_deadline="2020-01-01T10:00")
    response = await officer.post(
        f"{BASE}/needs", data=bad, headers=headers, follow_redirects=False
    )
    assert response.status_code == 400
    html = response.text
    for control, message in [
        ("title", "この項目は必須です。"),
        ("quantity", "整数を入力してください。"),
        ("join_deadline", "締切には今より後の日時を指定してください。"),
    ]:
        tag = field_tag(html, control)
        assert 'aria-invalid="true"' in tag
        assert f"{control}-error" in tag  # aria-describedby points at the message
        assert f'id="{control}-error" class="field-error">{message}<' in html
    assert 'aria-invalid="true"' not in field_tag(html, "unit")
    assert "autofocus" in field_tag(html, "title")  # the first problem takes the focus
    assert 'value="たくさん"' in html  # what was typed stays


async def test_officer_drafts_approver_returns_then_approves(client):
    officer, approver = await client("officer"), await client("approver")
    headers = await csrf(officer, f"{BASE}/needs/new")
    created = await officer.post(
        f"{BASE}/needs", data=draft_form(), headers=headers, follow_redirects=False
    )
    assert created.status_code == 303
    need_url = created.headers["location"]
    page = await officer.get(need_url)
    assert "窓口用タブレット" in page.text and "下書きを保存しました" in page.text
    assert "20 台" in page.text and "¥65,000" in page.text
    assert "（日本時間）" in page.text
    submitted = await officer.post(f"{need_url}/submit", headers=headers, follow_redirects=False)
    assert submitted.status_code == 303
    assert "決裁に回しました。" in (await officer.get(need_url)).text

    headers = await csrf(approver, f"{BASE}/approvals")
    queue = await approver.get(f"{BASE}/approvals")
    assert need_url.rsplit("/", 1)[1] in queue.text
    need_id = need_url.rsplit("/", 1)[1]
    # htmx: returning without a comment answers 400 with the panel, the message by the field
    empty = await approver.post(
        f"{need_url}/return",
        data={"comment": "", "back": "approvals"},
        headers={**headers, "hx-request": "true"},
        follow_redirects=False,
    )
    assert empty.status_code == 400
    assert 'id="approvals-panel"' in empty.text and "<html" not in empty.text
    tag = field_tag(empty.text, f"return-{need_id}-comment")
    assert 'aria-invalid="true"' in tag
    assert "差戻しの理由を入力してください。" in empty.text
    returned = await approver.post(
        f"{need_url}/return",
        data={"comment": "数量の根拠を追記してください", "back": "approvals"},
        headers={**headers, "hx-request": "true"},
        follow_redirects=False,
    )
    assert returned.status_code == 200
    assert "コメントを付けて起案者に差し戻しました。" in returned.text
    assert 'hx-swap-oob="innerHTML"' in returned.text  # the live region is refreshed too

    mine = await officer.get(f"{BASE}/needs")
    assert "決裁者から差し戻された案件" in mine.text
    assert "数量の根拠を追記してください" in mine.text
    headers = await csrf(officer, f"{need_url}/edit")
    edited = await officer.post(
        f"{need_url}/edit", data=draft_form(quantity="25"), headers=headers, follow_redirects=False
    )
    assert edited.status_code == 303
    await officer.post(f"{need_url}/submit", headers=headers, follow_redirects=False)
    headers = await csrf(approver, need_url)
    approved = await approver.post(
        f"{need_url}/approve", data={"comment": ""}, headers=headers, follow_redirects=False
    )
    assert approved.status_code == 303 and approved.headers["location"] == need_url
    assert "参加募集中" in (await approver.get(need_url)).text


async def test_pool_join_change_withdraw_with_and_without_script(db, people, client):
    # Due soonest, so it is on the pool's first page whatever other tests left open.
    title = f"窓口端末 {uuid.uuid4().hex[:6]}"
    need_id = await need_in_state(db, people, "published", title, open_for=timedelta(hours=1))
    machida = await client("other_officer")
    headers = await csrf(machida, f"{MACHIDA}/pool")
    pool = await machida.get(f"{MACHIDA}/pool")
    assert title in pool.text and "1団体で合計100台" in row(pool.text, need_id)
    url = f"{MACHIDA}/needs/{need_id}/commitment"
    # htmx: the panel comes back with the new total and a message for the live region
    joined = await machida.post(
        url,
        data={"quantity": "30", "estimated_unit_price": "140000", "back": "pool"},
        headers={**headers, "hx-request": "true"},
        follow_redirects=False,
    )
    assert joined.status_code == 200
    assert 'id="pool-panel"' in joined.text and "2団体で合計130台" in row(joined.text, need_id)
    assert "自団体の数量を共同調達の需要に計上しました。" in joined.text
    # a bad quantity: 400, the message next to this need's field
    bad = await machida.post(
        url,
        data={"quantity": "0", "estimated_unit_price": "140000", "back": "pool"},
        headers={**headers, "hx-request": "true"},
        follow_redirects=False,
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in field_tag(bad.text, f"join-{need_id}-quantity")
    # without script: POST, redirect back to the pool, the message shown once
    changed = await machida.post(
        url,
        data={"quantity": "45", "estimated_unit_price": "140000", "back": "pool", "page": "1"},
        headers=headers,
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"].startswith(f"{MACHIDA}/pool?")
    again = await machida.get(changed.headers["location"])
    assert "2団体で合計145台" in row(again.text, need_id) and "計上しました" in again.text
    assert "計上しました" not in (await machida.get(f"{MACHIDA}/pool")).text
    gone = await machida.post(
        f"{url}/withdraw", data={"back": "pool"}, headers=headers, follow_redirects=False
    )
    assert gone.status_code == 303
    assert "1団体で合計100台" in row((await machida.get(f"{MACHIDA}/pool")).text, need_id)


async def test_need_page_shows_participants_to_the_owner_only(db, people, client):
    need_id = await need_in_state(db, people, "joined")
    owner_view = await (await client("officer")).get(f"{BASE}/needs/{need_id}")
    assert "参加団体" in owner_view.text and "町田市" in owner_view.text
    assert "¥150,000" in owner_view.text  # the owner's own budget
    other_view = await (await client("other_officer")).get(f"{MACHIDA}/needs/{need_id}")
    assert other_view.status_code == 200
    assert "参加団体</h2>" not in other_view.text
    assert "¥150,000" not in other_view.text  # another organization's budget stays hidden
    assert "2団体で合計130台" in other_view.text


async def test_other_organizations_drafts_are_not_found_and_forms_need_csrf(db, people, client):
    need_id = await need_in_state(db, people, "draft")
    machida = await client("other_officer")
    assert (await machida.get(f"{MACHIDA}/needs/{need_id}")).status_code == 404
    officer = await client("officer")
    await csrf(officer, f"{BASE}/needs")
    forged = await officer.post(
        f"{BASE}/needs/{need_id}/submit", follow_redirects=False
    )  # no token
    assert forged.status_code == 403
    assert (await officer.get(f"{BASE}/needs/{need_id}")).status_code == 200


async def test_after_the_deadline_the_page_answers_409_with_the_reason(db, people, client):
    need_id = await need_in_state(db, people, "expired_published")
    machida = await client("other_officer")
    headers = await csrf(machida, f"{MACHIDA}/pool")
    late = await machida.post(
        f"{MACHIDA}/needs/{need_id}/commitment",
        data={"quantity": "5", "estimated_unit_price": "1000"},
        headers=headers,
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert "締切を過ぎています。" in late.text


async def test_settings_page_saves_followed_categories(client):
    officer = await client("other_officer")
    headers = await csrf(officer, f"{MACHIDA}/settings")
    saved = await officer.post(
        f"{MACHIDA}/settings/subscriptions",
        data={"categories": ["chatbot", "training"]},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    html = (await officer.get(f"{MACHIDA}/settings")).text
    assert re.search(r'id="category-chatbot"[^>]*checked', html)
    assert not re.search(r'id="category-cloud"[^>]*checked', html)
    assert "通知を受け取る分野を保存しました。" in html
    bad = await officer.post(
        f"{MACHIDA}/settings/subscriptions",
        data={"categories": ["guns"]},
        headers=headers,
        follow_redirects=False,
    )
    assert bad.status_code == 400


async def test_pages_speak_english_when_chosen(seeded):
    async with signed_in(seeded, "staff2@131016.example") as staff:
        headers = await csrf(staff, f"{BASE}/needs")
        assert "自団体の調達案件" in (await staff.get(f"{BASE}/needs")).text  # Japanese first
        await staff.post(
            "/locale",
            data={"locale": "en", "next": f"{BASE}/needs"},
            headers=headers,
            follow_redirects=False,
        )
        page = await staff.get(f"{BASE}/pool")
        assert "The pool of joint procurement" in page.text and 'lang="en"' in page.text


async def test_vendors_get_404_and_staff_403_on_municipal_actions(client):
    vendor = await client("vendor")  # a vendor has no pool at all
    assert (await vendor.get("/o/vendor-a/procurement/pool")).status_code == 404
    staff = await client("staff")
    assert (await staff.get(f"{BASE}/needs/new")).status_code == 403
    assert (await staff.get(f"{BASE}/approvals")).status_code == 403

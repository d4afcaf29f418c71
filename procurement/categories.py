"""Labels people see: procurement categories and statuses, in Japanese and English."""

from __future__ import annotations

from kyodo.web.i18n import current_locale

CATEGORIES: dict[str, tuple[str, str]] = {
    "devices": ("PC・端末", "PCs and devices"),
    "software": ("ソフトウェアライセンス", "Software licences"),
    "cloud": ("クラウドサービス", "Cloud services"),
    "ai_ocr": ("AI-OCR", "AI-OCR"),
    "chatbot": ("チャットボット", "Chatbots"),
    "network": ("ネットワーク", "Networks"),
    "training": ("研修", "Training"),
    "other": ("その他", "Other"),
}


def category_label(key: str, locale: str) -> str:
    ja, en = CATEGORIES.get(key, (key, key))
    return en if locale == "en" else ja


STATUSES: dict[str, tuple[str, str]] = {
    "draft": ("下書き", "draft"),
    "pending_approval": ("決裁待ち", "awaiting approval"),
    "returned": ("差戻し", "returned"),
    "published": ("参加募集中", "open for joining"),
    "closed": ("募集締切", "demand closed"),
    "tendering": ("入札手続中", "tendering"),
    "opened": ("開札済み", "opened"),
    "awarded": ("落札決定", "awarded"),
    "unsuccessful": ("不調", "unsuccessful"),
    "cancelled": ("中止", "cancelled"),
    "active": ("参加", "joined"),
    "withdrawn": ("辞退", "withdrawn"),
}


def status_label(key: str) -> str:
    ja, en = STATUSES.get(key, (key, key))
    return en if current_locale() == "en" else ja

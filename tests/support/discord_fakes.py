"""A fake Discord for driving the real discord.py machinery without the network.

Like discord.py's own tests, the objects are real: a ``ConnectionState`` fed with gateway
payload dicts (GUILD_CREATE, MESSAGE_CREATE, THREAD_CREATE, INTERACTION_CREATE). Only the
REST layer is replaced: ``bot.http`` methods and the webhook adapter used by interactions
record every call (with its JSON payload) and answer with payloads, keeping the messages
of each channel so that ``channel.history`` and replies work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import unicodedata
from types import SimpleNamespace
from typing import Any

import discord
from discord.webhook.async_ import async_context

# real-looking snowflakes (discord.py only parses mentions of 15 to 20 digits)
GUILD_ID = 100_000_000_000_000_001
CHANNEL_ID = 200_000_000_000_000_001
OTHER_CHANNEL_ID = 200_000_000_000_000_002
BOT_ID = 900_000_000_000_000_001
USER_ID = 500_000_000_000_000_001
ADMIN_ID = 500_000_000_000_000_002
OTHER_BOT_ID = 900_000_000_000_000_002

MANAGE_GUILD = discord.Permissions(manage_guild=True, send_messages=True).value
MEMBER_PERMS = discord.Permissions(send_messages=True, read_message_history=True).value


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "global_name": name,
            "bot": bot}


def member_payload(user_id: int, name: str, *, bot: bool = False, permissions: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"user": user_payload(user_id, name, bot=bot), "roles": [], "joined_at": _now(),
                            "deaf": False, "mute": False, "flags": 0}
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


NAMES = {BOT_ID: "newsbot", USER_ID: "alice", ADMIN_ID: "admin", OTHER_BOT_ID: "otherbot"}


class FakeDiscord:
    """Records REST calls as ``(name, payload)`` and plays the server's part."""

    def __init__(self, bot: Any, monkeypatch: Any) -> None:
        self.bot = bot
        self.state = bot._connection
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self._ids = itertools.count(300_000_000_000_000_000)
        self.fail: set[str] = set()  # REST calls that answer 403
        self._install(monkeypatch)

    # -- the world -------------------------------------------------------------------------
    def setup_world(self) -> None:
        state = self.state
        me: Any = user_payload(BOT_ID, "newsbot", bot=True)
        state.user = discord.ClientUser(state=state, data=me)
        state.application_id = BOT_ID
        everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": str(MEMBER_PERMS), "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False}
        channels: list[dict[str, Any]] = [
            {"id": str(cid), "type": 0, "name": name, "position": i, "guild_id": str(GUILD_ID),
             "permission_overwrites": [], "nsfw": False, "parent_id": None}
            for i, (cid, name) in enumerate([(CHANNEL_ID, "news"), (OTHER_CHANNEL_ID, "random")])
        ]
        members = [member_payload(uid, NAMES[uid], bot=uid in (BOT_ID, OTHER_BOT_ID)) for uid in NAMES]
        state._add_guild_from_data({
            "id": str(GUILD_ID), "name": "Newsroom", "owner_id": str(ADMIN_ID), "roles": [everyone],
            "channels": channels, "members": members, "emojis": [], "stickers": [], "features": [],
            "member_count": len(members), "threads": [], "premium_tier": 0, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "system_channel_flags": 0, "preferred_locale": "fr", "nsfw_level": 0,
        })

    def snowflake(self) -> int:
        return next(self._ids)

    # -- gateway events ------------------------------------------------------------------
    def message_payload(
        self, content: str, *, channel_id: int = CHANNEL_ID, author_id: int = USER_ID,
        reference: dict[str, Any] | None = None, guild: bool = True, mtype: int | None = None,
    ) -> dict[str, Any]:
        author = user_payload(author_id, NAMES.get(author_id, "someone"), bot=author_id in (BOT_ID, OTHER_BOT_ID))
        mentions = [user_payload(BOT_ID, "newsbot", bot=True)] if f"<@{BOT_ID}>" in content else []
        data: dict[str, Any] = {
            "id": str(self.snowflake()), "channel_id": str(channel_id), "author": author, "content": content,
            "timestamp": _now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": mentions, "mention_roles": [], "attachments": [], "embeds": [], "pinned": False,
            "type": mtype if mtype is not None else (19 if reference else 0), "components": [],
        }
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = {k: v for k, v in member_payload(author_id, author["username"]).items() if k != "user"}
        if reference is not None:
            data["message_reference"] = {"message_id": reference["id"], "channel_id": reference["channel_id"],
                                         "guild_id": str(GUILD_ID) if guild else None}
            data["referenced_message"] = reference
        return data

    def user_says(self, content: str, **kwargs: Any) -> dict[str, Any]:
        """A MESSAGE_CREATE from the gateway: the bot's listeners run as in production."""
        data = self.message_payload(content, **kwargs)
        self.messages.setdefault(int(data["channel_id"]), []).append(data)
        self.state.parse_message_create(data)
        return data

    def open_dm(self, user_id: int = USER_ID) -> int:
        channel_id = self.snowflake()
        self.state.add_dm_channel({"id": str(channel_id), "type": 1,
                                   "recipients": [user_payload(user_id, NAMES[user_id])]})
        return channel_id

    def interaction_payload(
        self, *, kind: int, data: dict[str, Any], user_id: int = USER_ID, permissions: int = MEMBER_PERMS,
        channel_id: int = CHANNEL_ID, message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.snowflake()), "application_id": str(BOT_ID), "token": f"tok-{self.snowflake()}",
            "version": 1, "type": kind, "data": data, "guild_id": str(GUILD_ID), "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": "news",
                        "position": 0, "permission_overwrites": []},
            "member": member_payload(user_id, NAMES[user_id], permissions=permissions),
            "attachment_size_limit": 8_000_000, "locale": "fr", "app_permissions": str(MEMBER_PERMS),
        }
        if message is not None:
            payload["message"] = message
        return payload

    def slash(self, name: str, *, options: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE for a slash command, dispatched through the bot's command tree."""
        opts = [{"type": 4 if isinstance(v, int) else 3, "name": k, "value": v} for k, v in (options or {}).items()]
        data = {"id": str(self.snowflake()), "name": name, "type": 1, "options": opts}
        payload = self.interaction_payload(kind=2, data=data, **kwargs)
        self.state.parse_interaction_create(payload)
        return payload

    def click(self, message: dict[str, Any], custom_id: str, *, user_id: int = USER_ID) -> dict[str, Any]:
        """An INTERACTION_CREATE for a button of a message the bot sent."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self.interaction_payload(kind=3, data=data, user_id=user_id, message=message,
                                           channel_id=int(message["channel_id"]))
        self.state.parse_interaction_create(payload)
        return payload

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every task the events started has finished."""
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            refresher = getattr(self.bot, "refresher", None)
            if refresher is not None:  # the background refresh loop never ends by itself
                refresher.cancel()
            await asyncio.sleep(0)
            pending = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
            if not pending:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"tasks still running: {pending}")
            await asyncio.sleep(0.01)

    # -- what the bot did ----------------------------------------------------------------
    def named(self, name: str) -> list[dict[str, Any]]:
        return [payload for call, payload in self.calls if call == name]

    def sent(self) -> list[dict[str, Any]]:
        """Payloads of every message the bot posted or edited (channel, interaction, webhook)."""
        return [p for c, p in self.calls if c in {
            "send_message", "edit_message", "interaction_response", "edit_original", "followup", "edit_followup"}]

    def contents(self, channel_id: int) -> list[str]:
        return [m["content"] for m in self.messages.get(channel_id, []) if int(m["author"]["id"]) == BOT_ID]

    # -- the REST API ----------------------------------------------------------------------
    def _forbidden(self, name: str) -> None:
        if name in self.fail:
            response: Any = SimpleNamespace(status=403, reason="Forbidden")
            raise discord.Forbidden(response, {"code": 50013, "message": "Missing Permissions"})

    def _bot_message(self, channel_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        data = self.message_payload(payload.get("content") or "", channel_id=channel_id, author_id=BOT_ID,
                                    guild=channel_id in self._guild_channels())
        data["mentions"] = []
        data["components"] = payload.get("components", [])
        data["flags"] = payload.get("flags", 0)
        ref = payload.get("message_reference")
        if ref:
            data["type"] = 19
            data["message_reference"] = {"message_id": str(ref["message_id"]), "channel_id": str(channel_id)}
            data["referenced_message"] = self._find(channel_id, int(ref["message_id"]))
        self.messages.setdefault(channel_id, []).append(data)
        return data

    def _guild_channels(self) -> set[int]:
        guild = self.state._get_guild(GUILD_ID)
        return {c.id for c in guild.channels} | {t.id for t in guild.threads} if guild else set()

    def _find(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        for m in self.messages.get(channel_id, []):
            if int(m["id"]) == message_id:
                return m
        return None

    def _install(self, monkeypatch: Any) -> None:
        http = self.bot.http
        fake = self

        async def send_message(channel_id: int, *, params: Any) -> dict[str, Any]:
            fake.calls.append(("send_message", {"channel_id": int(channel_id), **params.payload}))
            fake._forbidden("send_message")
            return fake._bot_message(int(channel_id), params.payload)

        async def edit_message(channel_id: int, message_id: int, *, params: Any) -> dict[str, Any]:
            fake.calls.append(("edit_message", {"channel_id": int(channel_id), "message_id": int(message_id),
                                                **params.payload}))
            found = fake._find(int(channel_id), int(message_id))
            assert found is not None, "edit of an unknown message"
            found.update({k: v for k, v in params.payload.items() if k in ("content", "components")})
            return found

        async def start_thread_with_message(channel_id: int, message_id: int, *, name: str,
                                            auto_archive_duration: int, rate_limit_per_user: Any = None,
                                            reason: Any = None) -> dict[str, Any]:
            fake.calls.append(("start_thread", {"channel_id": int(channel_id), "message_id": int(message_id),
                                                "name": name, "auto_archive_duration": auto_archive_duration}))
            fake._forbidden("start_thread")
            data = {
                "id": str(message_id), "guild_id": str(GUILD_ID), "parent_id": str(channel_id),
                "owner_id": str(BOT_ID), "name": name, "type": 11, "message_count": 0, "member_count": 1,
                "rate_limit_per_user": 0, "last_message_id": None, "newly_created": True,
                "thread_metadata": {"archived": False, "auto_archive_duration": auto_archive_duration,
                                    "archive_timestamp": _now(), "locked": False},
            }
            fake.state.parse_thread_create(data)  # the gateway's THREAD_CREATE
            return data

        async def send_typing(channel_id: int) -> None:
            fake.calls.append(("send_typing", {"channel_id": int(channel_id)}))

        async def add_reaction(channel_id: int, message_id: int, emoji: str) -> None:
            fake.calls.append(("add_reaction", {"channel_id": int(channel_id), "emoji": emoji}))

        async def logs_from(channel_id: int, limit: int, before: Any = None, after: Any = None,
                            around: Any = None) -> list[dict[str, Any]]:
            fake.calls.append(("logs_from", {"channel_id": int(channel_id), "limit": limit}))
            found = fake.messages.get(int(channel_id), [])
            if before is not None:
                found = [m for m in found if int(m["id"]) < int(before)]
            return list(reversed(found))[:limit]

        async def get_message(channel_id: int, message_id: int) -> dict[str, Any]:
            fake.calls.append(("get_message", {"channel_id": int(channel_id), "message_id": int(message_id)}))
            found = fake._find(int(channel_id), int(message_id))
            if found is None:
                response: Any = SimpleNamespace(status=404, reason="Not Found")
                raise discord.NotFound(response,
                                       {"code": 10008, "message": "Unknown Message"})
            return found

        async def bulk_upsert_global_commands(application_id: int, payload: Any) -> list[Any]:
            fake.calls.append(("sync_commands", {"commands": payload}))
            return []

        rest: list[Any] = [send_message, edit_message, start_thread_with_message, send_typing, add_reaction, logs_from,
                           get_message, bulk_upsert_global_commands]
        for fn in rest:
            monkeypatch.setattr(http, fn.__name__, fn)

        adapter = async_context.get()

        async def create_interaction_response(interaction_id: int, token: str, *, session: Any,
                                              proxy: Any = None, proxy_auth: Any = None, params: Any) -> Any:
            fake.calls.append(("interaction_response", {"token": token, **params.payload}))
            return {"interaction": {"id": str(interaction_id), "type": 2}}

        async def edit_original_interaction_response(application_id: int, token: str, *, session: Any,
                                                     proxy: Any = None, proxy_auth: Any = None,
                                                     payload: Any = None, multipart: Any = None,
                                                     files: Any = None) -> Any:
            fake.calls.append(("edit_original", {"token": token, **(payload or {})}))
            return fake._webhook_message(token, payload or {}, original=True)

        async def execute_webhook(webhook_id: int, token: str, *, session: Any, proxy: Any = None,
                                  proxy_auth: Any = None, payload: Any = None, multipart: Any = None,
                                  files: Any = None, thread_id: Any = None, wait: bool = False,
                                  with_components: bool = False) -> Any:
            fake.calls.append(("followup", {"token": token, **(payload or {})}))
            return fake._webhook_message(token, payload or {})

        async def edit_webhook_message(webhook_id: int, token: str, message_id: int, *, session: Any,
                                       proxy: Any = None, proxy_auth: Any = None, payload: Any = None,
                                       multipart: Any = None, files: Any = None, thread_id: Any = None) -> Any:
            fake.calls.append(("edit_followup", {"token": token, "message_id": int(message_id), **(payload or {})}))
            return fake._webhook_message(token, payload or {})

        for name, fn in [("create_interaction_response", create_interaction_response),
                         ("edit_original_interaction_response", edit_original_interaction_response),
                         ("execute_webhook", execute_webhook),
                         ("edit_webhook_message", edit_webhook_message)]:
            monkeypatch.setattr(adapter, name, fn)

    def _webhook_message(self, token: str, payload: dict[str, Any], *, original: bool = False) -> dict[str, Any]:
        data = self.message_payload(payload.get("content") or "", author_id=BOT_ID)
        data["mentions"] = []
        data["webhook_id"] = str(BOT_ID)
        data["components"] = payload.get("components", [])
        return data


def pings_nobody(allowed: dict[str, Any] | None) -> bool:
    """Discord's rule: with ``parse`` empty and no ids listed, no mention pings anyone."""
    return (allowed is not None and allowed.get("parse") == [] and not allowed.get("users")
            and not allowed.get("roles") and not allowed.get("replied_user", False))


def assert_no_pings(fake: FakeDiscord) -> None:
    sent = fake.sent()
    assert sent, "the bot sent nothing"
    for payload in sent:
        data = payload.get("data", payload)  # interaction responses nest their message
        if "content" in data or "components" in data:
            assert pings_nobody(data.get("allowed_mentions")), payload


def mention(text: str) -> str:
    """A message mentioning the bot."""
    return f"<@{BOT_ID}> {text}"


async def start_bot(service: Any, settings: Any, monkeypatch: Any, **kwargs: Any) -> SimpleNamespace:
    """A real NewsBot over ``service`` with the fake REST layer, set up as ``Client.login`` would."""
    from bot.discord.app import NewsBot

    bot = NewsBot(service, settings, **kwargs)
    fake = FakeDiscord(bot, monkeypatch)
    fake.setup_world()
    await bot._async_setup_hook()  # what Client.login does before setup_hook
    await bot.setup_hook()
    return SimpleNamespace(bot=bot, fake=fake, service=service, settings=settings)


# -- what the bot may never send ------------------------------------------------------------
MAX_MESSAGES = 5  # an answer is never more messages than this (bot.discord.formatting.MAX_MESSAGES)
_ESCAPED = re.compile(r"\\.", re.S)
_CITATION_MARK = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CODE_SPAN = re.compile(r"`[^`]*`")  # Discord renders no markdown inside inline code


def unsafe(content: str) -> list[str]:
    """Why ``content`` is not fit to be sent: a masked link ``[text](url)`` (Discord renders one
    whatever the text inside the brackets, nested brackets included), a bracket outside a
    citation marker (inline code aside), a control character (other than a newline) or a
    direction override."""
    problems = []
    plain = _CODE_SPAN.sub("", _ESCAPED.sub("", content))  # what is left as markup
    if "](" in plain:
        problems.append("masked link")
    if "[" in _CITATION_MARK.sub("", plain):
        problems.append("unescaped bracket")
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in content):
        problems.append("control character")
    if _BIDI.search(content):
        problems.append("direction override")
    if len(content) > 2000:
        problems.append("longer than 2,000 characters")
    return problems


def assert_all_safe(fake: FakeDiscord) -> None:
    """Every message the bot sent or edited pings nobody and is :func:`unsafe` for no reason."""
    assert_no_pings(fake)
    for payload in fake.sent():
        data = payload.get("data", payload)
        content = data.get("content") or ""
        assert unsafe(content) == [], (unsafe(content), content[:500])

"""A small EasyTransfer (ET, 易思汇) client for Python 3.11 with `cryptography`.

It speaks the protocol of docs/protocol (the same choices as et-rs's default
profile): requests are JSON envelopes whose `sensitive_data` is AES-128-CBC
(key = IV = 16 random characters, PKCS#7) under an `aeskey` RSA-encrypted
(PKCS#1 v1.5) to ET's public key, signed SHA256withRSA over the sorted
`key=value&...` sign string; replies are verified with ET's public key
before anything in them is read; notifications are verified by their salted
MD5 and acknowledged with the exact reply ET expects.

Only the standard library and `cryptography` are used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)

SUCCESS = "000000"
VERSION = "2.0.0"
BEIJING = timezone(timedelta(hours=8))
# Bounds on what is read from the network.
MAX_REPLY_BYTES = 4 << 20
MAX_NOTIFICATION_BYTES = 64 << 10
TIMEOUT_SECONDS = 30
ALPHANUMERIC = string.ascii_letters + string.digits


class EtError(Exception):
    """A reply or notification that was refused, and why."""


class EtRefusal(EtError):
    """ET answered with a status code other than 000000.

    `authenticated` says whether ET's signature on the refusal verified:
    only then is it ET's word (and never act on an unauthenticated one).
    """

    def __init__(self, status_code: str, message: str, authenticated: bool):
        super().__init__(f"ET refused: {status_code} {message!r} (authenticated: {authenticated})")
        self.status_code = status_code
        self.message = message
        self.authenticated = authenticated


def _raw_json(text: bytes | str) -> dict[str, Any]:
    """A JSON object whose numbers keep their exact text (`10000.00` stays
    `10000.00`: the signatures are over the text), refusing duplicate keys."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise EtError(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        value = json.loads(text, parse_int=str, parse_float=str, object_pairs_hook=pairs)
    except (ValueError, UnicodeDecodeError) as e:
        raise EtError(f"not JSON: {e.__class__.__name__}") from None
    if not isinstance(value, dict):
        raise EtError("not a JSON object")
    return value


def _text(key: str, value: Any) -> str:
    """A top-level value as the sign string writes it: its text on the wire."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise EtError(f"{key} is not a string, number, boolean or null")


def sign_string(fields: dict[str, Any]) -> str:
    """Every key but `sign`, sorted by byte order, `key=value` joined by `&`,
    empty values kept (docs/protocol/01 §6.3)."""
    pairs = sorted(
        ((k, _text(k, v)) for k, v in fields.items() if k != "sign"),
        key=lambda kv: kv[0].encode(),
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def _refuse_resplit(fields: dict[str, Any]) -> None:
    """A value holding `&key=` of another key makes the sign string readable
    two ways; such a reply or notification is refused (SECURITY.md)."""
    for key, value in fields.items():
        text = _text(key, value)
        for other in fields:
            if f"&{other}=" in text:
                raise EtError(f"{key} holds '&{other}=': the sign string is ambiguous")


def notification_sign(salt: str, fields: dict[str, Any]) -> str:
    """The v2 notification signature: MD5 of the salt then the sign string,
    32 lowercase hex digits (docs/protocol/01 §8.2)."""
    return hashlib.md5((salt + sign_string(fields)).encode()).hexdigest()


def _random_text(n: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(n))


@dataclass
class Merchant:
    """What ET gives a merchant: its numbers, ET's public key, the
    notification salt; and the merchant's own private key."""

    merchant_number: str
    sub_merchant_number: str
    private_key: RSAPrivateKey
    et_public_key: RSAPublicKey
    salt: str

    @classmethod
    def from_files(
        cls,
        merchant_number: str,
        sub_merchant_number: str,
        private_key_pem: str,
        et_public_key_pem: str,
        salt: str,
    ) -> "Merchant":
        with open(private_key_pem, "rb") as f:
            private_key = load_pem_private_key(f.read(), password=None)
        with open(et_public_key_pem, "rb") as f:
            et_public_key = load_pem_public_key(f.read())
        if not isinstance(private_key, RSAPrivateKey) or not isinstance(et_public_key, RSAPublicKey):
            raise EtError("both keys must be RSA keys")
        return cls(merchant_number, sub_merchant_number, private_key, et_public_key, salt)

    @classmethod
    def from_sandbox_dir(cls, directory: str) -> "Merchant":
        """The merchant of an `et sandbox init` directory (merchant.json,
        merchant-private.pem, et-public.pem)."""
        with open(f"{directory}/merchant.json", encoding="utf-8") as f:
            info = json.load(f)
        return cls.from_files(
            info["merchant_number"],
            info["sub_merchant_number"],
            f"{directory}/merchant-private.pem",
            f"{directory}/et-public.pem",
            info["salt"],
        )


def _aes(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key))


class Client:
    """Calls ET's one endpoint (`https://testapi.easytransfer.cn/server`,
    or a sandbox's `http://127.0.0.1:8877/server`)."""

    def __init__(self, endpoint: str, merchant: Merchant):
        scheme = urllib.parse.urlsplit(endpoint).scheme
        host = urllib.parse.urlsplit(endpoint).hostname or ""
        if scheme != "https" and not (scheme == "http" and host in ("127.0.0.1", "localhost", "::1")):
            raise EtError("the endpoint must be https (plain http only to loopback)")
        self.endpoint = endpoint
        self.merchant = merchant

    # -- the operations -------------------------------------------------

    def create_order(self, order: dict[str, Any], amounts: dict[str, str] | None = None) -> dict[str, Any]:
        """`create_order`: every field in `sensitive_data`. `amounts` maps
        amount fields (`tuituon`, `merchant_service_fee`, ...) to decimal
        text, sent as JSON numbers with that exact text."""
        return self.call("create_order", data={}, sensitive=order, numbers=amounts)[0]

    def get_pay_url(self, order_id: str, notify_url: str | None = None) -> dict[str, Any]:
        """`get_special_pay_url`: where the payer pays (`pay_config_list`)."""
        data = {"order_id": order_id}
        if notify_url:
            data["notify_url"] = notify_url
        return self.call("get_special_pay_url", data=data)[0]

    def query_orders(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """`batch_special_query_order_info`: the orders, from `sensitive_data`."""
        return self.call("batch_special_query_order_info", data={"order_id_list": order_ids})

    # -- the envelope ---------------------------------------------------

    def serial_number(self) -> str:
        """yyyyMMddHHmmss (Beijing time) + 6 random digits + merchant number."""
        now = datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")
        digits = "".join(secrets.choice(string.digits) for _ in range(6))
        return f"{now}{digits}{self.merchant.merchant_number}"

    def build(
        self,
        server_type: str,
        data: dict[str, Any],
        sensitive: dict[str, Any] | None = None,
        numbers: dict[str, str] | None = None,
    ) -> tuple[bytes, str]:
        """The signed request body, and its `return_info`."""
        m = self.merchant
        sensitive_data, aeskey = "", ""
        if sensitive:
            key = _random_text(16).encode()
            plain = _json_with_numbers(sensitive, numbers or {}).encode()
            padder = padding.PKCS7(128).padder()
            padded = padder.update(plain) + padder.finalize()
            encryptor = _aes(key).encryptor()
            sensitive_data = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
            aeskey = base64.b64encode(m.et_public_key.encrypt(key, rsa_padding.PKCS1v15())).decode()
        return_info = _random_text(22)
        envelope: dict[str, Any] = {
            "serial_number": self.serial_number(),
            "merchant_number": m.merchant_number,
            "sub_merchant_number": m.sub_merchant_number,
            "server_type": server_type,
            "version": VERSION,
            "callback_process": 0,
            "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            "sensitive_data": sensitive_data,
            "aeskey": aeskey,
            "extend_info": "",
            "return_info": return_info,
        }
        signature = m.private_key.sign(sign_string(envelope).encode(), rsa_padding.PKCS1v15(), hashes.SHA256())
        envelope["sign"] = base64.b64encode(signature).decode()
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        return body.encode(), return_info

    def call(
        self,
        server_type: str,
        data: dict[str, Any],
        sensitive: dict[str, Any] | None = None,
        numbers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Sends one request and returns the verified, decrypted result list."""
        body, return_info = self.build(server_type, data, sensitive, numbers)
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
            raw = reply.read(MAX_REPLY_BYTES + 1)
        if len(raw) > MAX_REPLY_BYTES:
            raise EtError(f"reply longer than {MAX_REPLY_BYTES} bytes")
        return self.open(raw, return_info)

    def open(self, raw: bytes, return_info: str) -> list[dict[str, Any]]:
        """Verifies ET's signature over the reply, then reads it: a refusal
        raises EtRefusal; a success must echo our `return_info`."""
        fields = _raw_json(raw)
        sign = fields.get("sign")
        authenticated = isinstance(sign, str) and self._verifies(fields, sign)
        status = fields.get("status_code")
        if status != SUCCESS:
            raise EtRefusal(str(status), str(fields.get("message", "")), authenticated)
        if not authenticated:
            raise EtError("the reply's signature does not verify with ET's public key")
        _refuse_resplit(fields)
        if fields.get("return_info") != return_info:
            raise EtError("the reply does not echo this request's return_info")
        results = _results(fields.get("data") or "[]")
        aeskey = fields.get("aeskey") or ""
        if aeskey:
            results += self._decrypt(aeskey, fields.get("sensitive_data") or "")
        return results

    def _verifies(self, fields: dict[str, Any], sign: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            signature = base64.b64decode(sign, validate=True)
            self.merchant.et_public_key.verify(
                signature, sign_string(fields).encode(), rsa_padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError, EtError):
            return False
        return True

    def _decrypt(self, aeskey: str, sensitive_data: str) -> list[Any]:
        try:
            key = self.merchant.private_key.decrypt(base64.b64decode(aeskey, validate=True), rsa_padding.PKCS1v15())
            if len(key) != 16:
                raise ValueError
            decryptor = _aes(key).decryptor()
            padded = decryptor.update(base64.b64decode(sensitive_data, validate=True)) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            # One error whatever step failed: no padding oracle.
            raise EtError("the reply's sensitive_data does not decrypt") from None
        return _results(plain)


def _results(text: str | bytes) -> list[Any]:
    """A result list (`data`, or decrypted `sensitive_data`), numbers kept
    as their text; a single object counts as a list of one."""
    try:
        value = json.loads(text, parse_int=str, parse_float=str)
    except (ValueError, UnicodeDecodeError):
        raise EtError("the reply's results are not JSON") from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise EtError("the reply's results are not a list")
    return value


def _json_with_numbers(value: dict[str, Any], numbers: dict[str, str]) -> str:
    """`value` as compact JSON, with each field of `numbers` a JSON number
    of exactly that decimal text (never through a float)."""
    placeholders = {}
    merged = dict(value)
    for field, text in numbers.items():
        if not text or any(c not in "0123456789." for c in text) or text.count(".") > 1:
            raise EtError(f"{field} is not decimal text: {text!r}")
        token = f"\u0000number:{field}\u0000"
        merged[field] = token
        placeholders[json.dumps(token)] = text
    out = json.dumps(merged, ensure_ascii=False, separators=(",", ":"))
    for token, text in placeholders.items():
        out = out.replace(token, text, 1)
    return out


@dataclass
class VerifiedNotification:
    """A notification whose salted MD5 verified: its fields (numbers as
    their received text), and the exact body to answer ET with."""

    fields: dict[str, Any]
    acknowledgement: bytes

    @property
    def kind(self) -> str:
        f = self.fields
        if str(f.get("notify_type", "")).strip() == "order_status_change":
            return "order_status_change"
        for field, kind in (
            ("refund_result", "refund_result"),
            ("remittance_voucher_url", "remittance_voucher"),
            ("pay_result", "payment_success"),
        ):
            if field in f:
                return kind
        return "unknown"


ACK_OK = b'{"notify_result":"OK"}'


def verify_notification(salt: str, body: bytes, content_type: str = "application/json") -> VerifiedNotification:
    """Verifies a notification ET posted (JSON, or a form) by its salted MD5
    (compared in constant time) and returns it with its acknowledgement.
    Answer ET with `acknowledgement` only after the notification is safely
    stored or processed: ET retries anything else."""
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise EtError(f"notification longer than {MAX_NOTIFICATION_BYTES} bytes")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        fields: dict[str, Any] = {}
        for key, value in pairs:
            if key in fields:
                raise EtError(f"duplicate key {key!r}")
            fields[key] = value
    else:
        fields = _raw_json(body)
    sign = fields.get("sign")
    if not isinstance(sign, str):
        raise EtError("the notification has no sign")
    expected = notification_sign(salt, fields)
    if not hmac.compare_digest(expected.encode(), sign.lower().encode()):
        raise EtError("the notification's sign does not verify")
    _refuse_resplit(fields)
    verified = VerifiedNotification(fields, ACK_OK)
    if verified.kind == "refund_result":
        verified.acknowledgement = refund_acknowledgement(salt, str(fields.get("order_id", "")))
    return verified


def refund_acknowledgement(salt: str, order_id: str) -> bytes:
    """The reply to a refund result: `order_id`, `notify_result` and their MD5 `sign`."""
    reply = {"order_id": order_id, "notify_result": "OK"}
    reply["sign"] = notification_sign(salt, reply)
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()

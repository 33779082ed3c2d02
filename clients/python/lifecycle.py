"""One whole order lifecycle against `et sandbox serve`, in Python.

    python3 lifecycle.py --dir SANDBOX_DIR --endpoint http://127.0.0.1:8877/server

Creates an order (with a notify URL served here), gets its payment address,
pays it through the sandbox's admin route (what ET's checkout page does),
receives and verifies the payment notification, acknowledges it with the
exact reply, and queries the order until it reads paid. Prints a JSON
summary and exits 0 when every step checked out; anything else exits 1
with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import et_client

WAIT_SECONDS = 30


class NotifyServer:
    """Receives ET's notifications on 127.0.0.1: each verified one is put on
    `received` first, and only then acknowledged."""

    def __init__(self, salt: str):
        self.received: queue.Queue[et_client.VerifiedNotification] = queue.Queue()
        self.refused: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                if length > et_client.MAX_NOTIFICATION_BYTES:
                    return self._answer(413, b'{"notify_result":"FAIL"}')
                body = self.rfile.read(length)
                try:
                    verified = et_client.verify_notification(
                        salt, body, self.headers.get("Content-Type", "application/json")
                    )
                except et_client.EtError as e:
                    outer.refused.append(str(e))
                    return self._answer(400, b'{"notify_result":"FAIL"}')
                outer.received.put(verified)  # stored before the acknowledgement
                self._answer(200, verified.acknowledgement)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/et/notify"

    def wait_for(self, kind: str, order_id: str) -> et_client.VerifiedNotification:
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                n = self.received.get(timeout=left)
            except queue.Empty:
                break
            if n.kind == kind and n.fields.get("order_id") == order_id:
                return n
        raise SystemExit(f"no verified {kind} notification for {order_id} within {WAIT_SECONDS} s (refused: {self.refused})")


def sandbox_admin(endpoint: str, order_id: str, action: str) -> None:
    """A sandbox-only step (ET's side of the lifecycle): POST
    /admin/orders/{id}/{action}, JSON, as the dashboard's buttons do."""
    base = endpoint.rsplit("/server", 1)[0]
    url = f"{base}/admin/orders/{urllib.parse.quote(order_id, safe='')}/{action}"
    request = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=et_client.TIMEOUT_SECONDS) as reply:
        reply.read(et_client.MAX_REPLY_BYTES)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"check failed: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="the `et sandbox init` directory")
    parser.add_argument("--endpoint", required=True, help="the sandbox's /server URL")
    args = parser.parse_args()

    merchant = et_client.Merchant.from_sandbox_dir(args.dir)
    client = et_client.Client(args.endpoint, merchant)
    notify = NotifyServer(merchant.salt)

    merchant_order_id = f"PY{int(time.time() * 1000)}"
    created = client.create_order(
        {
            "merchant_order_id": merchant_order_id,
            "merchant_user_key": "student-py",
            "country_code": "GBR",
            "currency_code": "GBP",
            "notify_url": notify.url,
        },
        amounts={"tuituon": "1234.50"},
    )
    order_id = created.get("order_id")
    check(isinstance(order_id, str) and order_id != "", f"create_order returned an order id: {created}")

    pay_url = client.get_pay_url(order_id)
    check(len(pay_url.get("pay_config_list") or []) > 0, f"a payment address: {pay_url}")

    try:
        client.get_pay_url("ET-NO-SUCH-ORDER")
        check(False, "an unknown order is refused")
    except et_client.EtRefusal as refusal:
        check(refusal.authenticated, "ET's refusal is signed")

    sandbox_admin(args.endpoint, order_id, "pay")
    paid = notify.wait_for("payment_success", order_id)
    check(paid.fields.get("pay_result") == "1", f"pay_result 1: {paid.fields}")
    check(paid.acknowledgement == et_client.ACK_OK, "acknowledged with the exact reply")

    orders = client.query_orders([order_id])
    check(len(orders) == 1 and orders[0].get("order_id") == order_id, f"the order queried: {orders}")
    status = orders[0].get("order_status")
    check(status == "1", f"the order reads paid (status 1), not {status}")

    json.dump(
        {
            "order_id": order_id,
            "merchant_order_id": merchant_order_id,
            "pay_methods": len(pay_url["pay_config_list"]),
            "notification": paid.kind,
            "pay_amount": paid.fields.get("pay_amount"),
            "order_status": status,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    notify.server.shutdown()


if __name__ == "__main__":
    try:
        main()
    except et_client.EtError as e:
        raise SystemExit(f"{e.__class__.__name__}: {e}") from None

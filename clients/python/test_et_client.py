"""Unit tests of et_client that need no sandbox: `python3 -m unittest -q`."""

import json
import unittest

import et_client

SALT = "abc123"
# ET's documented v2 example (docs/protocol/01 §8.2), with its hash.
EXAMPLE = (
    b'{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,'
    b'"pay_datetime":"2024-12-01 10:00:00","extend_info":"",'
    b'"sign":"652614570bcc49940d7dcc7a3c3dc7e5"}'
)


class Notifications(unittest.TestCase):
    def test_et_s_documented_example_verifies_with_its_amount_text_kept(self):
        n = et_client.verify_notification(SALT, EXAMPLE)
        self.assertEqual(n.kind, "payment_success")
        self.assertEqual(n.fields["pay_amount"], "10000.00")
        self.assertEqual(n.acknowledgement, b'{"notify_result":"OK"}')

    def test_the_same_fields_as_a_form_verify_too(self):
        form = (
            b"order_id=ETxxxxxxxxxxxx01&pay_result=1&pay_amount=10000.00"
            b"&pay_datetime=2024-12-01+10%3A00%3A00&extend_info="
            b"&sign=652614570bcc49940d7dcc7a3c3dc7e5"
        )
        n = et_client.verify_notification(SALT, form, "application/x-www-form-urlencoded")
        self.assertEqual(n.fields["pay_datetime"], "2024-12-01 10:00:00")

    def test_a_changed_field_a_wrong_salt_or_no_sign_is_refused(self):
        for body, salt in [
            (EXAMPLE.replace(b"10000.00", b"10000.01"), SALT),
            (EXAMPLE.replace(b"10000.00", b"10000.0"), SALT),
            (EXAMPLE, "another salt"),
            (EXAMPLE.replace(b',"sign":"652614570bcc49940d7dcc7a3c3dc7e5"', b""), SALT),
            (b'{"order_id":"A","order_id":"B","sign":"00"}', SALT),
            (b"[]", SALT),
            (b"\xff", SALT),
        ]:
            with self.assertRaises(et_client.EtError, msg=body):
                et_client.verify_notification(salt, body)

    def test_a_refund_result_is_acknowledged_with_its_order_id_and_signature(self):
        fields = {"order_id": "ET1", "refund_order_id": "R1", "refund_result": "1"}
        fields["sign"] = et_client.notification_sign(SALT, fields)
        n = et_client.verify_notification(SALT, json.dumps(fields).encode())
        ack = json.loads(n.acknowledgement)
        self.assertEqual(list(ack), ["order_id", "notify_result", "sign"])
        self.assertEqual(ack["sign"], et_client.notification_sign(SALT, ack))


class SignString(unittest.TestCase):
    def test_keys_sort_by_bytes_and_empty_values_stay(self):
        fields = {"b": "2", "a": "", "sign": "x", "B": 0}
        self.assertEqual(et_client.sign_string(fields), "B=0&a=&b=2")

    def test_a_value_that_re_splits_the_sign_string_is_refused(self):
        with self.assertRaises(et_client.EtError):
            et_client._refuse_resplit({"message": "x&status_code=000000", "status_code": "1"})


if __name__ == "__main__":
    unittest.main()

"""Issue 15: the readers are an SES contact list with a topic (moto's SES v2). Three
contacts are subscribed and one has left; every message goes to one subscribed reader, as
part of the list (ListManagementOptions, so SES adds its one-click unsubscribe), and the
operator changes the list with `stockpicks subscribers` between two runs."""

import email
import email.policy
import json
import re

from conftest import CONTACT_LIST, LEFT, READERS, TOPIC

SYMBOLS = ["AAPL", "MSFT", "KO", "PEP", "JPM", "XOM", "JNJ", "PG", "NVDA", "WMT", "HD", "CVX", "IBM", "MRK", "ABBV"]


def recipients(mails):
    return sorted(re.search(r"^To: (.+)$", m["raw"], re.M).group(1).strip() for m in mails)


def sends_recorded(stack):
    """The function's SendEmail requests, as the recorder kept them (no message, no address)."""
    # The recorder writes its file with the function's first AWS request.
    lines = stack.recording.read_text().splitlines() if stack.recording.exists() else []
    return [r for r in map(json.loads, lines) if r["path"].startswith("/v2/email/outbound-emails") and r["method"] == "POST"]


def test_three_subscribed_and_one_who_left_give_three_messages_each_sent_through_the_list(stack):
    before = len(sends_recorded(stack))
    out = stack.invoke({"op": "run", "symbols": SYMBOLS, "run_id": "readers-1"}, "readers-1")
    assert out["status"] == "complete" and out["emails_sent"] == 3, out
    mails = stack.emails("readers-1")
    assert recipients(mails) == sorted(READERS), "one message per subscribed reader"
    assert all(LEFT not in m["raw"] for m in mails), "the reader who left gets nothing"
    sends = sends_recorded(stack)[before:]
    assert len(sends) == 3, len(sends)
    for s in sends:
        assert s["json"].get("ListManagementOptions") == {"ContactListName": CONTACT_LIST, "TopicName": TOPIC}, s
    print(f"\nreaders-1: {len(mails)} messages to {recipients(mails)}; each SendEmail with "
          f"ListManagementOptions={sends[0]['json']['ListManagementOptions']}")


def test_each_message_parses_strictly_and_no_header_line_exceeds_78(stack):
    mails = stack.emails("readers-1")
    assert mails
    for m in mails:
        msg = email.message_from_string(m["raw"], policy=email.policy.strict)
        for part in msg.walk():
            assert not part.defects, part.defects
        head = m["raw"].split("\r\n\r\n", 1)[0]
        part_heads = re.findall(r"\r\n--=_[^\r\n]+\r\n(.*?)\r\n\r\n", m["raw"], re.S)
        for block in [head, *part_heads]:
            for line in block.split("\r\n"):
                assert len(line) <= 78, line
        reader = re.search(r"^To: (.+)$", m["raw"], re.M).group(1).strip()
        assert reader.split("@")[0] not in msg["Message-ID"], "no address in the Message-ID"


def test_a_reader_added_between_two_runs_is_mailed_on_the_next(stack):
    newcomer = "newcomer@example.com"
    added = stack.cli("subscribers", "add", newcomer)
    assert f"Added {newcomer} to SES contact list {CONTACT_LIST}, topic {TOPIC}" in added.stderr, added.stderr
    try:
        listed = stack.cli("subscribers", "list")
        assert f"{newcomer}\tsubscribed" in listed.stdout, listed.stdout
        assert f"{LEFT}\tunsubscribed" in listed.stdout, "the reader who left is listed as such"
        assert "5 readers in SES contact list" in listed.stderr and "4 subscribed, 1 unsubscribed" in listed.stderr, listed.stderr
        out = stack.invoke({"op": "run", "symbols": SYMBOLS, "run_id": "readers-2"}, "readers-2")
        assert out["emails_sent"] == 4, out
        assert recipients(stack.emails("readers-2")) == sorted(READERS + [newcomer])
    finally:
        stack.cli("subscribers", "remove", newcomer)
    listed = stack.cli("subscribers", "list")
    assert newcomer not in listed.stdout, listed.stdout
    gone = stack.cli("subscribers", "remove", newcomer, check=False)
    assert gone.returncode == 1 and "is not on the reader list" in gone.stderr, gone.stderr


def test_the_cli_refuses_a_bad_address_with_exit_2_and_changes_nothing(stack):
    before = stack.cli("subscribers", "list").stdout
    bad = stack.cli("subscribers", "add", "ok@example.com", "Reader <r@example.com>", check=False)
    assert bad.returncode == 2, bad.stderr
    assert "is not a plain e-mail address" in bad.stderr, bad.stderr
    assert stack.cli("subscribers", "list").stdout == before

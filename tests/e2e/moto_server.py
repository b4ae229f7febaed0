"""moto's server, with one correction where it departs from the SES v2 wire format: moto
5.2.5 writes a contact's CreatedTimestamp and LastUpdatedTimestamp as ISO-8601 strings, but
the SES v2 API is restJson1, whose timestamps are epoch seconds unless a member says
otherwise (Smithy, "restJson1 protocol: timestamp formats",
https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#timestamp-formats); the
Rust SDK follows the protocol and refuses the string. boto3 accepts both, which is why moto
never noticed. Everything else is moto unchanged.

Run: python moto_server.py -H 127.0.0.1 -p PORT (moto_server's own arguments)
"""

from datetime import datetime

import moto.ses.models as ses_models
from moto.server import main

TIMESTAMPS = ("CreatedTimestamp", "LastUpdatedTimestamp")


def epoch_seconds(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return value


def with_epoch_timestamps(cls):
    original = cls.response_object.fget

    def response_object(self):
        out = dict(original(self))
        for k in TIMESTAMPS:
            if k in out:
                out[k] = epoch_seconds(out[k])
        return out

    cls.response_object = property(response_object)


with_epoch_timestamps(ses_models.Contact)
with_epoch_timestamps(ses_models.ContactList)

if __name__ == "__main__":
    main()

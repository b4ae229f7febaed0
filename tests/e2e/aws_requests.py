"""Turns the recording of aws_recorder.py and invoke_proxy.py into IAM requests: the action
IAM authorizes, the resource ARN and the condition keys the policies test, with the parts
that vary from run to run (run ids, dates, chunk and reader numbers, symbols, cache
shards) replaced by placeholders. contracts/aws-requests.json lists the same shapes, and the infra IAM
simulation fills the placeholders with sample values and the ${...} names with the
synthesized stack's own resources."""

import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

RUN_KEY = re.compile(r"^runs/([^/]+)/(.*)$")
# A reader's claims: runs/{run}/email/{16 hex digits of the reader's id}.{lock,sent,failed}.
READER_KEY = re.compile(r"^email/[0-9a-f]{16}\.(lock|sent|failed)$")
REPORT_KEY = re.compile(r"^reports/(\d{4}-\d{2}-\d{2})/([^/]+)/([^/]+)$")


def object_shape(key):
    """The key with its varying parts as {placeholders}."""
    m = RUN_KEY.match(key)
    if m and READER_KEY.match(m.group(2)):
        return "runs/{run}/email/{reader}." + m.group(2).rsplit(".", 1)[1]
    if m:
        return "runs/{run}/" + re.sub(r"(^|/)\d+(\.|/|$)", r"\1{n}\2", m.group(2))
    m = REPORT_KEY.match(key)
    if m:
        return "reports/{date}/{run}/" + m.group(3)
    if key.startswith("reports/history/"):
        return "reports/history/{record}.json"
    if key.startswith("cache/overview/shards/"):
        # One object per first character of the symbol (pipeline/cache.rs).
        return "cache/overview/shards/{shard}.json"
    if key.startswith("cache/overview/"):
        # Per-symbol entries: no longer read or written (the lifecycle expires old ones).
        return "cache/overview/{symbol}.json"
    return key


def prefix_shape(prefix):
    m = RUN_KEY.match(prefix)
    if m:
        return "runs/{run}/" + m.group(2)
    return prefix


def s3_requests(rec, bucket, path, query):
    rest = path[len(bucket) + 2:] if path.startswith(f"/{bucket}/") else ""
    key = unquote(rest)
    method = rec["method"]
    if not key:
        if method == "GET" and "list-type" in query:
            prefix = query.get("prefix", [""])[0]
            return [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::${bucket}", "context": {"s3:prefix": prefix_shape(prefix)}}]
        raise ValueError(f"unmapped S3 bucket request {method} {rec['path']}")
    obj = "arn:aws:s3:::${bucket}/" + object_shape(key)
    if method in ("GET", "HEAD"):
        return [{"action": "s3:GetObject", "resource": obj}]
    if method == "PUT":
        out = [{"action": "s3:PutObject", "resource": obj}]
        # "To perform conditional writes with an HTTP If-Match header you must have the
        # s3:PutObject and s3:GetObject permissions" (S3 User Guide, conditional writes).
        if "if-match" in rec["headers"]:
            out.append({"action": "s3:GetObject", "resource": obj})
        return out
    if method == "DELETE":
        return [{"action": "s3:DeleteObject", "resource": obj}]
    raise ValueError(f"unmapped S3 request {method} {rec['path']}")


def to_iam(rec, bucket, sender, contact_list=None):
    """The IAM requests one recorded HTTP request needs, as shapes."""
    url = urlsplit(rec["path"])
    path, query = url.path, parse_qs(url.query)
    target = rec["headers"].get("x-amz-target", "")
    if target.startswith("secretsmanager."):
        action = target.split(".", 1)[1]
        secret = rec.get("json", {}).get("SecretId", "")
        name = "${alphaVantageSecret}" if "alpha-vantage" in secret else "${openaiSecret}" if "openai" in secret else secret
        return [{"action": f"secretsmanager:{action}", "resource": name}]
    if path == "/v2/email/outbound-emails" and rec["method"] == "POST":
        body = rec.get("json", {})
        assert body.get("FromEmailAddress") == sender, body.get("FromEmailAddress")
        # SES authorizes the sending identity: the address when it is verified, else its
        # domain; both are checked. The configuration set, when the stack sets one, is
        # authorized too (test_zz adds it: the end-to-end tests run without one).
        out = [{"action": "ses:SendEmail", "resource": "arn:aws:ses:${region}:${account}:identity/${sender}"},
               {"action": "ses:SendEmail", "resource": "arn:aws:ses:${region}:${account}:identity/${senderDomain}"}]
        if body.get("ConfigurationSetName"):
            out.append({"action": "ses:SendEmail", "resource": "arn:aws:ses:${region}:${account}:configuration-set/${configurationSet}"})
        # A message of a contact list names it in ListManagementOptions, but IAM does not
        # authorize the list for SendEmail: its resource types are identity, configuration-set
        # and template only (Service Authorization Reference, Amazon SES v2,
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html).
        options = body.get("ListManagementOptions")
        if options:
            assert options.get("ContactListName") == contact_list, options
        return out
    m = re.match(r"^/v2/email/contact-lists/([^/]+)/contacts/list$", path)
    if m and rec["method"] == "POST":
        assert unquote(m.group(1)) == contact_list, m.group(1)
        return [{"action": "ses:ListContacts", "resource": "arn:aws:ses:${region}:${account}:contact-list/${contactList}"}]
    m = re.match(r"^/v2/email/identities/([^/]+)$", path)
    if m and rec["method"] == "GET":
        identity = unquote(m.group(1))
        which = "${sender}" if identity == sender else "${senderDomain}" if identity == sender.split("@")[1] else identity
        return [{"action": "ses:GetEmailIdentity", "resource": f"arn:aws:ses:${{region}}:${{account}}:identity/{which}"}]
    m = re.match(r"^/2015-03-31/functions/([^/]+)/invocations$", path)
    if m:
        # Locally the function runs as $LATEST and invokes its lanes unqualified; in Lambda,
        # AWS_LAMBDA_FUNCTION_VERSION is the published version, and lanes name it
        # (adapters/aws/invoker.rs). The IAM request is the one Lambda makes.
        return [{"action": "lambda:InvokeFunction", "resource": "arn:aws:lambda:${region}:${account}:function:${function}:{version}"}]
    if path.startswith(f"/{bucket}"):
        return s3_requests(rec, bucket, path, query)
    raise ValueError(f"unmapped request {rec['method']} {rec['path']} {target}")


def shape_key(req):
    return json.dumps({"action": req["action"], "resource": req["resource"], "context": req.get("context", {})}, sort_keys=True)


def load_recording(path, bucket, sender, contact_list=None):
    """Every IAM request shape in the recording, with how often it occurred."""
    counts = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                for req in to_iam(json.loads(line), bucket, sender, contact_list):
                    k = shape_key(req)
                    counts[k] = counts.get(k, 0) + 1
    return counts

"""The emulator a rehearsal runs on: a moto server of its own, and a recording proxy before it.

moto switches IAM enforcement on for the whole process it runs in (its
``INITIAL_NO_AUTH_ACTION_COUNT`` setting), so the rehearsal's server is a separate process:
enforcement there never reaches another moto server of the caller (a test suite's, say).

moto keeps one backend per account and finds a request's account from the key that signed
it: a role session's key belongs to the role's account (so a task of one account that
assumes a role of another acts in that one), and a key it does not know belongs to its
default account, which the server sets to the account the plan's environment names (so the
roles and their ARNs are the ones the plan declares, and a client with any key, ``glacier
run --remote`` say, finds the state machine). Set-up requests for another account name it in
moto's ``x-moto-account-id`` header. Two corrections make moto authorize S3 requests as AWS
does: ``HeadBucket`` needs ``s3:ListBucket`` (moto checks an ``s3:HeadBucket`` action that IAM
does not have); and the action checked is the IAM action moto's S3 names for the request
(its ``ACTION_MAP``: ``HeadObject`` is ``s3:GetObject``, ``ListObjectsV2`` is
``s3:ListBucket``), which moto 5.2.6 replaced by the API operation's name (``s3:HeadObject``:
denied under any policy a user would write). Tried with moto 5.2.5 and 5.2.6.
Two more make it read policies as AWS does: IAM's wildcards (``?`` is one character; moto
made a regular expression of the pattern, which ``secret:/x-??????`` is not), and Secrets
Manager and DynamoDB requests are checked against the secret's or the table's ARN (moto checks
``*``, which no grant on one secret or table matches).

Tasks reach the server through :class:`RecordingProxy`, which notes every request moto's IAM
denied (HTTP 403 ``AccessDenied``) with the access key that signed it, and every role session
a key opened (``sts:AssumeRole``), so that a denial signed by a session a task opened counts
against that task: the rehearsal reports them per task.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from glacier.errors import InfraError
from glacier.extras import install_command

_SERVER = (
    "import sys\n"
    "import moto.iam.models\n"
    # The account of a key moto does not know (the set-up's, a reader's): the plan's.
    "moto.iam.models.DEFAULT_ACCOUNT_ID = sys.argv[1]\n"
    "from moto.s3.responses import ACTION_MAP\n"
    # AWS authorizes HeadBucket as s3:ListBucket; moto checks a made-up s3:HeadBucket.
    "ACTION_MAP['BUCKET']['HEAD']['DEFAULT'] = 'ListBucket'\n"
    # S3 requests are authorized as the IAM action moto's S3 set from ACTION_MAP (as up to
    # moto 5.2.5), not as the API operation's name (5.2.6 checks s3:HeadObject, which IAM
    # does not have, where AWS checks s3:GetObject).
    "from moto.iam.access_control import S3IAMRequest\n"
    "_init = S3IAMRequest.__init__\n"
    "def _iam_action(self, *args, **kwargs):\n"
    "    data = kwargs.get('data')\n"
    "    if isinstance(data, dict) and isinstance(data.get('Action'), str):\n"
    "        kwargs['action'] = data['Action']\n"
    "    _init(self, *args, **kwargs)\n"
    "S3IAMRequest.__init__ = _iam_action\n"
    # IAM's wildcards: '*' any run, '?' one character, everything else literal. (moto reads
    # a pattern as a regular expression with '*' widened: 'secret:/x-??????', AWS's pattern
    # for a secret of any suffix, is not even a valid one.)
    "import re\n"
    "from moto.iam.access_control import IAMPolicyStatement\n"
    "def _iam_match(pattern, string):\n"
    "    wild = {'*': '.*', '?': '.'}\n"
    "    regex = ''.join(wild.get(c) or re.escape(c) for c in pattern)\n"
    "    return re.match('^' + regex + '$', string, re.S)\n"
    "IAMPolicyStatement._match = staticmethod(_iam_match)\n"
    # Secrets Manager requests are authorized against the secret's ARN, as AWS does (moto
    # checks them against '*', which a grant on one secret never matches).
    "import json\n"
    "from moto.secretsmanager.responses import SecretsManagerResponse\n"
    "def _secret_arn(self):\n"
    "    try:\n"
    "        found = json.loads(self.body or '{}').get('SecretId')\n"
    "        return self.backend.describe_secret(found).arn if found else '*'\n"
    "    except Exception:\n"  # unknown secret: moto answers it as AWS would
    "        return '*'\n"
    "SecretsManagerResponse._determine_resource = _secret_arn\n"
    # DynamoDB requests are authorized against the table's ARN, as AWS does (moto checks
    # '*', which a grant on one table never matches).
    "from moto.dynamodb.responses import DynamoHandler\n"
    "from moto.utilities.utils import get_partition\n"
    "def _table_arn(self):\n"
    "    try:\n"
    "        body = self.body if isinstance(self.body, dict) else json.loads(self.body or '{}')\n"
    "        name = body.get('TableName') or next(iter(body.get('RequestItems') or {}), None)\n"
    "        if not name or name.startswith('arn:'):\n"
    "            return name or '*'\n"
    "        return (f'arn:{get_partition(self.region)}:dynamodb:{self.region}:'\n"
    "                f'{self.current_account}:table/{name}')\n"
    "    except Exception:\n"
    "        return '*'\n"
    "DynamoHandler._determine_resource = _table_arn\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0)\n"
    "server.start()\n"
    "print('port', server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # until the rehearsal closes it
    "server.stop()\n"
)
_ACCESS_KEY = re.compile(r"Credential=([A-Z0-9]+)/")
_ISSUED_KEY = re.compile(rb"<AssumeRoleResult>.*?<AccessKeyId>([A-Z0-9]+)</AccessKeyId>", re.S)
#: moto's account when the plan's environment names none.
DEFAULT_ACCOUNT = "123456789012"
#: Headers a proxy must not copy: hop-by-hop, or recomputed for the full body it sends.
#: (``Host`` is kept: requests are signed with it.)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class MotoProcess:
    """A moto server in a process of its own, on a free port of 127.0.0.1."""

    def __init__(self, account_id: str | None = None) -> None:
        env = {"PATH": "/usr/bin:/bin"}
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, account_id or DEFAULT_ACCOUNT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        stdout: IO[str] | None = self._process.stdout
        line = ""
        while stdout is not None and not line.startswith("port "):
            line = stdout.readline()
            if not line:  # the process ended
                break
        port = line.strip().removeprefix("port ")
        if not port.isdigit():
            self.stop()
            raise InfraError(
                "The rehearsal's moto server did not start. Install moto with its server: "
                f"{install_command('rehearse')}."
            )
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the server (and its process)."""
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def enforce_iam(endpoint: str, on: bool = True) -> None:
    """From now on, moto checks every request against the IAM policies of its signer (or,
    ``on=False``, checks none again)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would reach moto empty
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read())


@dataclass(frozen=True)
class Denied:
    """A request IAM denied: who signed it, and what it asked."""

    access_key: str
    method: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


@dataclass(frozen=True)
class Session:
    """A role session a key opened with ``sts:AssumeRole``: the role and the session's key."""

    parent_key: str
    role_arn: str
    access_key: str


class RecordingProxy:
    """Forwards HTTP requests to ``upstream`` and records those answered 403 (denied)."""

    def __init__(self, upstream: str) -> None:
        self.denied: list[Denied] = []
        self.sessions: list[Session] = []
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn = http.client.HTTPConnection(target.netloc, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                signer = self.headers.get("Authorization", "")
                if response.status == 403:  # HEAD answers carry no body to say more
                    proxy.record(signer, self.command, self.path, data)
                elif response.status == 200 and b"<AssumeRoleResult>" in data:
                    proxy.record_session(signer, body or b"", data)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                # A HEAD answer has no body but the size of the object it describes.
                size = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", size or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the rehearsal reports what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def record(self, authorization: str, method: str, path: str, body: bytes) -> None:
        """Note a denied request, with the access key that signed it."""
        match = _ACCESS_KEY.search(authorization)
        text = body.decode(errors="replace")
        found = re.search(r"<Message>(.*?)</Message>", text, re.S)
        message = found.group(1).strip() if found else "Access Denied"
        self.denied.append(Denied(match.group(1) if match else "", method, path, message))

    def record_session(self, authorization: str, request: bytes, response: bytes) -> None:
        """Note the role session a key opened (from the AssumeRole request and answer)."""
        parent = _ACCESS_KEY.search(authorization)
        issued = _ISSUED_KEY.search(response)
        role = parse_qs(request.decode(errors="replace")).get("RoleArn", [""])[0]
        if parent and issued:
            self.sessions.append(Session(parent.group(1), role, issued.group(1).decode()))

    def opened_by(self, access_key: str) -> list[Session]:
        """The sessions ``access_key`` opened, and those they opened in turn (a chain)."""
        out: list[Session] = []
        keys = {access_key}
        for session in list(self.sessions):  # in the order they were opened
            if session.parent_key in keys:
                out.append(session)
                keys.add(session.access_key)
        return out

    def denied_to(self, access_key: str) -> list[Denied]:
        """The denials of requests signed by ``access_key`` or a session it opened."""
        keys = {access_key, *(s.access_key for s in self.opened_by(access_key))}
        return [d for d in self.denied if d.access_key in keys]

    def stop(self) -> None:
        """Stop forwarding."""
        self._server.shutdown()
        self._server.server_close()

"""A real OpenID provider for the tests: the npm `oidc-provider` package (a certified
OpenID Connect implementation), run by `tests/oidc/provider.mjs` on a free port with one
client and the accounts a test writes. Nothing is downloaded at test time: `make` installs
it with the other Node packages from package-lock.json."""

import html
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
PACKAGE = ROOT / "node_modules" / "oidc-provider"
CLIENT_ID = "bleep"
CLIENT_SECRET = "bleep-tests-client-secret"
START_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signing_key(kid: str) -> dict[str, Any]:
    """Return a new RSA private key as a JWK with `kid`, for the provider to sign with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    # PyJWT marks a private key `key_ops: ["sign"]`, which the provider would publish with
    # the public half, and a careful client would then refuse to verify with it.
    jwk.pop("key_ops", None)
    return jwk | {"kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class OidcProvider:
    """The provider's files in `directory`, and its process once started."""

    directory: Path
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str = ""
    # More of the client's registration, such as private key JWT authentication.
    client_extra: dict[str, Any] = field(default_factory=dict)
    keys: list[dict[str, Any]] = field(default_factory=lambda: [signing_key("first")])
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "provider.log"

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Write the accounts (`sub` → claims; `"disabled": true` refuses sign-in)."""
        (self.directory / "accounts.json").write_text(json.dumps(accounts))

    def start(self) -> "OidcProvider":
        node = shutil.which("node")
        if node is None or not PACKAGE.exists():
            raise RuntimeError("the tests' OpenID provider needs node and `npm ci` (make does it)")
        if not (self.directory / "accounts.json").exists():
            self.set_accounts({})
        client: dict[str, Any] = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
        }
        if self.backchannel_logout_uri:
            client["backchannel_logout_uri"] = self.backchannel_logout_uri
        # None in `client_extra` leaves a setting out (a client without a secret).
        client = {k: v for k, v in (client | self.client_extra).items() if v is not None}
        settings = {
            "port": self.port,
            "issuer": self.issuer,
            "client": client,
            "accounts": str(self.directory / "accounts.json"),
            "jwks": {"keys": self.keys},
        }
        path = self.directory / "settings.json"
        path.write_text(json.dumps(settings))
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [node, str(SCRIPT), str(path)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_until_up()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider stopped: {self.log.read_text()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the OpenID provider did not start: {self.log.read_text()}")


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.DOTALL)
_INPUT = re.compile(r"<input([^>]*)>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
SIGN_IN_STEPS = 12


def sign_in_at(provider: OidcProvider, authorize_url: str, login: str) -> str:
    """Play a browser at the provider's own pages: sign in as `login` (any password), give
    consent, and return the address the provider sends the browser back to (the client's
    redirect URI with the code and state). The browser tests use Chromium instead."""
    with httpx.Client(base_url=provider.issuer, timeout=10) as browser:
        answer = browser.get(authorize_url)
        for _ in range(SIGN_IN_STEPS):
            if answer.is_redirect:
                location = answer.headers["location"]
                if not location.startswith(("/", provider.issuer)):
                    return location
                answer = browser.get(location)
                continue
            form = _FORM.search(answer.text)
            assert form is not None, f"the provider answered {answer.status_code}: {answer.text}"
            inputs = (dict(_ATTRIBUTE.findall(tag)) for tag in _INPUT.findall(form[2]))
            fields = {i["name"]: html.unescape(i.get("value", "")) for i in inputs if "name" in i}
            if "login" in fields:
                fields |= {"login": login, "password": "any"}
            answer = browser.post(html.unescape(form[1]), data=fields)
    raise AssertionError("the provider never sent the browser back")

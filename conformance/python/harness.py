"""Shared helpers for the Junction black-box conformance suite (Autobahn|Python, asyncio).

Environment (set by conformance/run, or by run_tests.py when it starts its own router):
  JUNCTION_URL     ws://127.0.0.1:PORT/ws of a running router with realms REALM and REALM2
  JUNCTION_RS      HOST:PORT of the same router's WAMP RawSocket (TCP) listener
  JUNCTION_UNIX    /path of the same router's WAMP RawSocket Unix-socket listener
  JUNCTION_WSS     wss://127.0.0.1:PORT/ws of the same router's WebSocket-over-TLS listener
  JUNCTION_RSS     HOST:PORT of the same router's RawSocket-over-TLS listener
  JUNCTION_CA      PEM file of the CA that signed the TLS listeners' certificate (clients trust it)
  JUNCTION_REALM   first realm  (default realm1)
  JUNCTION_REALM2  second realm (default realm2)
  JUNCTION_BIN     router binary, for tests that start an extra router (default build/router/junction)
  JUNCTION_TIMEOUT seconds to wait for any single router reaction (default 5)
  JUNCTION_SANITIZED  1: the routers are sanitizer builds; RouterProcess.stop() fails on a report

Everything here waits with a timeout, so a hung router fails a test instead of hanging the run.

Transports: 'ws' (WebSocket), 'rs' (WAMP RawSocket over TCP), 'unix' (WAMP RawSocket over a Unix domain
socket), 'wss' / 'rss' (WebSocket / RawSocket over TLS). Addresses are written as URLs everywhere:
ws://HOST:PORT/PATH, rs://HOST:PORT, unix:/PATH, wss://HOST:PORT/PATH, rss://HOST:PORT; the scheme of a URL
picks the transport (see address(), connect(), RawWamp.open()). A wss:// or rss:// URL without an explicit
ssl_context gets a client context that trusts JUNCTION_CA (tls_context()).
"""

import asyncio
import base64
import functools
import json
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

import cbor2
import msgpack
import txaio

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import (  # noqa: E402
    WampWebSocketClientFactory,
    WebSocketClientFactory,
    WebSocketClientProtocol,
)
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(CONFORMANCE_DIR)

URL = os.environ.get('JUNCTION_URL', '')
RS = os.environ.get('JUNCTION_RS', '')      # HOST:PORT
UNIX = os.environ.get('JUNCTION_UNIX', '')  # /path/to/socket
WSS = os.environ.get('JUNCTION_WSS', '')    # wss://HOST:PORT/PATH
RSS = os.environ.get('JUNCTION_RSS', '')    # HOST:PORT
CA = os.environ.get('JUNCTION_CA', '')      # CA certificate (PEM) of the TLS listeners
REALM = os.environ.get('JUNCTION_REALM', 'realm1')
REALM2 = os.environ.get('JUNCTION_REALM2', 'realm2')
BIN = os.environ.get('JUNCTION_BIN', os.path.join(REPO_ROOT, 'build', 'router', 'junction'))
T = float(os.environ.get('JUNCTION_TIMEOUT', '5'))
# Set by script/test's asan level: routers of the tests' own are sanitizer builds, and stop() fails
# the test whose router printed an AddressSanitizer, LeakSanitizer or UBSan report.
SANITIZED = os.environ.get('JUNCTION_SANITIZED') == '1'
# I/O threads of every router the tests start (--threads); '' leaves the router's default.
THREADS = os.environ.get('JUNCTION_THREADS', '')
_SANITIZER_RE = re.compile(r'ERROR: (Address|Leak)Sanitizer|runtime error:')
TEST_TIMEOUT = float(os.environ.get('JUNCTION_TEST_TIMEOUT', '40'))

# JUNCTION_SERIALIZERS=json,msgpack narrows the per-serializer cells (script/test's ASan level).
SERIALIZERS = tuple(s for s in os.environ.get('JUNCTION_SERIALIZERS', 'json,msgpack,cbor').split(',') if s)
PLAIN_TRANSPORTS = ('ws', 'rs', 'unix')
TLS_TRANSPORTS = ('wss', 'rss')
TRANSPORTS = PLAIN_TRANSPORTS + TLS_TRANSPORTS
RAWSOCKET_SERIALIZER_IDS = {'json': 1, 'msgpack': 2, 'cbor': 3}
MAX_ID = 2 ** 53

# Router features the router is specified to announce in WELCOME: what issues 4 and 5 implement.
# test_session checks the announcement equals this, so a feature is announced only once it is here.
ANNOUNCED_FEATURES = {
    'broker': {'publisher_exclusion', 'publisher_identification', 'subscriber_blackwhite_listing',
               'pattern_based_subscription', 'event_retention', 'subscription_revocation',
               'session_meta_api', 'subscription_meta_api'},
    'dealer': {'progressive_call_results', 'progressive_call_invocations', 'call_timeout',
               'call_canceling', 'caller_identification', 'pattern_based_registration',
               'shared_registration', 'registration_revocation',
               'session_meta_api', 'registration_meta_api', 'testament_meta_api'},
}

# HELLO.Details.roles a raw client sends.
CLIENT_ROLES = {'caller': {}, 'callee': {}, 'publisher': {}, 'subscriber': {}}

# Message codes
HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
CHALLENGE_CODE, AUTHENTICATE_CODE = 4, 5
PUBLISH, PUBLISHED = 16, 17
SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = 32, 33, 34, 35, 36
CALL, RESULT = 48, 50
REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, YIELD = 64, 65, 66, 67, 68, 70

if not os.environ.get('JUNCTION_VERBOSE'):
    logging.getLogger().setLevel(logging.CRITICAL + 10)
    txaio.set_global_log_level('critical')


def uri(prefix='com.conformance'):
    """A fresh URI so tests never see each other's registrations/subscriptions."""
    return '{}.u{}'.format(prefix, uuid.uuid4().hex[:12])


def make_serializer(name):
    if name == 'json':
        return JsonSerializer()
    if name == 'msgpack':
        return MsgPackSerializer()
    if name == 'cbor':
        return CBORSerializer()
    raise ValueError('unknown serializer {!r}'.format(name))


def encode(ser, msg):
    """Encode a WAMP message (a list) the way a spec-conformant peer does; returns (payload, is_binary)."""
    if ser == 'json':
        return json.dumps(msg, separators=(',', ':')).encode('utf-8'), False
    if ser == 'cbor':
        return cbor2.dumps(msg), True
    return msgpack.packb(msg, use_bin_type=True), True


def decode(ser, payload):
    if ser == 'json':
        return json.loads(payload.decode('utf-8'))
    if ser == 'cbor':
        return cbor2.loads(payload)
    return msgpack.unpackb(payload, raw=False, strict_map_key=False)


def split_url(url):
    """(host, port, path) of a ws:// or rs:// URL (the query, if any, is dropped)."""
    u = urllib.parse.urlparse(url)
    return u.hostname, u.port or 80, u.path or '/'


def transport_of(url):
    """'ws', 'rs' or 'unix' from a URL's scheme (wss:// and rss:// are their TLS forms)."""
    if url.startswith('ws://') or url.startswith('wss://'):
        return 'ws'
    if url.startswith('rs://') or url.startswith('rss://'):
        return 'rs'
    if url.startswith('unix:'):
        return 'unix'
    raise ValueError('not a ws(s)://, rs(s):// or unix: URL: {!r}'.format(url))


def is_tls(url):
    """True for wss:// and rss:// URLs."""
    return url.startswith('wss://') or url.startswith('rss://')


_TLS_CONTEXTS = {}


def tls_context(cafile=None):
    """A client SSLContext that trusts cafile (default JUNCTION_CA) and checks the host name / IP."""
    cafile = cafile or CA
    if not cafile:
        raise RuntimeError('JUNCTION_CA (the CA of the TLS listeners) is not set; conformance/run and '
                           'run_tests.py set it together with JUNCTION_WSS / JUNCTION_RSS')
    ctx = _TLS_CONTEXTS.get(cafile)
    if ctx is None:
        ctx = _TLS_CONTEXTS[cafile] = ssl.create_default_context(cafile=cafile)
    return ctx


def ssl_for(url, ssl_context=None):
    """The SSLContext to connect to url with: the given one, tls_context() for wss:// / rss://, else None."""
    if ssl_context is not None:
        return ssl_context
    return tls_context() if is_tls(url) else None


def unix_path(url):
    """The socket path of unix:/PATH (or unix:///PATH), without a ?query."""
    path = url[len('unix:'):].split('?', 1)[0]
    return path[2:] if path.startswith('//') else path


def address(transport='ws'):
    """URL of the main router's listener for a transport (from JUNCTION_URL / JUNCTION_RS / JUNCTION_UNIX /
    JUNCTION_WSS / JUNCTION_RSS)."""
    if transport == 'ws':
        if not URL:
            raise RuntimeError('JUNCTION_URL is not set (use conformance/run or run_tests.py)')
        return URL
    if transport == 'rs':
        if not RS:
            raise RuntimeError('JUNCTION_RS (HOST:PORT of a RawSocket listener) is not set; conformance/run and '
                               'run_tests.py set it when the router supports --listen')
        return 'rs://' + RS
    if transport == 'unix':
        if not UNIX:
            raise RuntimeError('JUNCTION_UNIX (path of a RawSocket Unix socket) is not set; conformance/run and '
                               'run_tests.py set it when the router supports --listen')
        return 'unix:' + UNIX
    if transport == 'wss':
        if not WSS:
            raise RuntimeError('JUNCTION_WSS (wss:// URL of a WebSocket-over-TLS listener) is not set; '
                               'conformance/run and run_tests.py set it when the router supports --listen')
        return WSS
    if transport == 'rss':
        if not RSS:
            raise RuntimeError('JUNCTION_RSS (HOST:PORT of a RawSocket-over-TLS listener) is not set; '
                               'conformance/run and run_tests.py set it when the router supports --listen')
        return 'rss://' + RSS
    raise ValueError('unknown transport {!r}'.format(transport))


def _create_connection(loop, protocol_factory, url, ssl_context=None):
    """loop.create_connection / create_unix_connection, by the URL's scheme (TLS for wss:// and rss://,
    with ssl_context or else tls_context())."""
    if transport_of(url) == 'unix':
        return loop.create_unix_connection(protocol_factory, unix_path(url))
    host, port, _ = split_url(url)
    return loop.create_connection(protocol_factory, host, port, ssl=ssl_for(url, ssl_context))


async def open_stream(url):
    """Plain asyncio (reader, writer) to a rs:// or unix: (or ws://) listener, for byte-exact tests
    (TLS for rss:// and wss://)."""
    if transport_of(url) == 'unix':
        return await asyncio.wait_for(asyncio.open_unix_connection(unix_path(url)), T)
    host, port, _ = split_url(url)
    return await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ssl_for(url)), T)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Aborted(Exception):
    """The router answered HELLO (or anything) with ABORT, or closed the session."""

    def __init__(self, reason, message=None):
        super().__init__('{} ({})'.format(reason, message))
        self.reason = reason
        self.message = message


class TransportClosed(Exception):
    pass


def _quiet(fut):
    """Mark a future's exception as retrieved so asyncio does not log it."""
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    return fut


# ---------------------------------------------------------------------------------------------
# Router processes (for run_tests.py without JUNCTION_URL and for tests that need their own router)
# ---------------------------------------------------------------------------------------------

LISTEN_ALL = ('ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0', 'unix:{tmp}/junction.sock')


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A throwaway PKI in directory d: ca.pem/ca.key, server.pem/server.key (127.0.0.1), client.pem/client.key
    signed by the CA, and rogue.pem/rogue.key self-signed (not from the CA)."""
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test CA',
            '-keyout', 'ca.key', '-out', 'ca.pem', cwd=d)
    for name, cn in (('server', '127.0.0.1'), ('client', 'client')):
        openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=' + cn,
                '-keyout', name + '.key', '-out', name + '.csr', cwd=d)
        with open(os.path.join(d, name + '.ext'), 'w') as f:
            f.write('subjectAltName=IP:127.0.0.1\n' if name == 'server' else 'extendedKeyUsage=clientAuth\n')
        openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
                '-CAcreateserial', '-days', '1', '-extfile', name + '.ext', '-out', name + '.pem', cwd=d)
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=rogue',
            '-keyout', 'rogue.key', '-out', 'rogue.pem', cwd=d)


def listen_tls(pki_dir):
    """The wss:// and rss:// --listen URLs (port 0) with make_pki(pki_dir)'s server certificate."""
    f = 'cert={0}/server.pem&key={0}/server.key'.format(pki_dir)
    return ('wss://127.0.0.1:0/ws?' + f, 'rss://127.0.0.1:0?' + f)
_LISTENING_RE = re.compile(r'listening on (\S+)')


def router_supports_listen(binary=None):
    """True if the router binary knows --listen (RawSocket listeners)."""
    try:
        p = subprocess.run([binary or BIN, '--help'], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return '--listen' in p.stdout


_CONFIG_SCHEMA = None


def validate_config(config):
    """Raises AssertionError when `config` (a dict) does not validate against config/junction.schema.json
    (Debian python3-jsonschema)."""
    global _CONFIG_SCHEMA
    import jsonschema
    if _CONFIG_SCHEMA is None:
        with open(os.path.join(REPO_ROOT, 'config', 'junction.schema.json')) as f:
            _CONFIG_SCHEMA = json.load(f)
    errors = list(jsonschema.Draft202012Validator(_CONFIG_SCHEMA).iter_errors(config))
    if errors:
        raise AssertionError('config does not validate against the schema: {}'.format(
            '; '.join('{}: {}'.format('/' + '/'.join(str(p) for p in e.absolute_path), e.message) for e in errors)))


def metric_sum(text, name, labels=''):
    """The sum of every sample of metric `name` in a Prometheus text exposition whose labels contain
    `labels` (e.g. 'reason="slow_consumer"'; '' = all of them)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + ' ') or (line.startswith(name + '{') and labels in line):
            total += float(line.rsplit(' ', 1)[1])
    return total


async def http_get(host, port, path, method='GET', timeout=None):
    """One plain HTTP/1.1 request on a connection of its own (Connection: close, so the answer ends with
    the connection); returns (status, headers dict lower-case, body bytes)."""
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout or T)
    try:
        w.write('{} {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'.format(
            method, path, host, port).encode())
        data = await asyncio.wait_for(r.read(), timeout or T)
    finally:
        w.close()
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split(' ')[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


async def read_http_response(r, timeout=None):
    """One response from an open connection (kept alive or not): (status, headers dict lower-case,
    body bytes), the body by its Content-Length."""
    head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), timeout or T)
    lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for line in lines[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get('content-length', '0'))
    body = await asyncio.wait_for(r.readexactly(n), timeout or T) if n else b''
    return int(lines[0].split()[1]), headers, body


class ModuleRouter:
    """One router shared by a test module's cases: RouterProcess(**kwargs) started at the first
    get() (a callable `config` is called then); stop() it from tearDownModule."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.router = None

    def get(self):
        if self.router is None:
            kw = dict(self.kwargs)
            if callable(kw.get('config')):
                kw['config'] = kw['config']()
            self.router = RouterProcess(**kw).start()
        return self.router

    def stop(self):
        if self.router:
            self.router.stop()
            self.router = None


class RouterProcess:
    """A router of the test's own.

    listen=None: the classic single WebSocket listener (--host 127.0.0.1 --port FREE --path PATH).
    listen=[URL, ...]: one --listen per URL (ws://HOST:PORT/PATH, rs://HOST:PORT, unix:/PATH, each optionally
    with ?max-message-size=N); '{tmp}' in a URL is replaced by a private temp dir (removed by stop()).
    Use port 0: the actual addresses are read from the router's "listening on URL" log lines (logged at
    level info, so do not pass --log-level warn or higher). LISTEN_ALL = ws + rs + unix at once.
    After start(): .listeners (the logged URLs, in log order), .urls {'ws'|'rs'|'unix': first such URL},
    .url / .rs_url / .unix_url, .env() (JUNCTION_URL / JUNCTION_RS / JUNCTION_UNIX for that router).
    """

    def __init__(self, binary=None, realms=None, extra_args=(), path='/ws', listen=None, config=None):
        self.binary = binary or BIN
        self.realms = realms if realms is not None else [REALM, REALM2]
        self.extra_args = list(extra_args)
        self.path = path
        self.listen = list(listen) if listen is not None else None
        # config: a config file's content (a dict), written to a temp file and given as --config;
        # its listeners are the router's (port 0 ones are read from the log), and reload() rewrites it.
        self.config = config
        self.config_path = None
        if config is not None:
            self.listen = []
            self.realms = []
        self.port = None
        self.proc = None
        self.log = None
        self.tmpdir = None
        self.listeners = []
        self.urls = {}

    @property
    def url(self):
        if self.listen is not None:
            return self.urls.get('ws')
        return 'ws://127.0.0.1:{}{}'.format(self.port, self.path)

    @property
    def rs_url(self):
        return self.urls.get('rs')

    @property
    def unix_url(self):
        return self.urls.get('unix')

    def env(self):
        """JUNCTION_URL / JUNCTION_RS / JUNCTION_UNIX / JUNCTION_WSS / JUNCTION_RSS of this router (only those
        it has; JUNCTION_CA is up to the caller)."""
        e = {}
        if self.url:
            e['JUNCTION_URL'] = self.url
        if self.rs_url:
            e['JUNCTION_RS'] = self.rs_url[len('rs://'):].split('?', 1)[0]
        if self.unix_url:
            e['JUNCTION_UNIX'] = unix_path(self.unix_url)
        if self.urls.get('wss'):
            e['JUNCTION_WSS'] = self.urls['wss']
        if self.urls.get('rss'):
            e['JUNCTION_RSS'] = self.urls['rss'][len('rss://'):].split('?', 1)[0]
        return e

    def start(self, wait=10.0):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError('router binary {} is missing or not executable'.format(self.binary))
        if self.listen is not None:
            return self._start_listen(wait)
        last_err = None
        for _attempt in range(3):
            self.port = free_port()
            args = [self.binary, '--host', '127.0.0.1', '--port', str(self.port), '--path', self.path]
            for r in self.realms:
                args += ['--realm', r]
            args += self.extra_args + self._thread_args()
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(('127.0.0.1', self.port), timeout=0.2).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            last_err = 'router {} did not accept on port {} (exit code {}): {}'.format(
                args, self.port, self.proc.poll(), self.output()[-2000:])
            self.stop()
        raise RuntimeError(last_err)

    def _thread_args(self):
        if THREADS and '--threads' not in self.extra_args:
            return ['--threads', THREADS]
        return []

    def _start_listen(self, wait):
        if any('{tmp}' in u for u in self.listen) or self.config is not None:
            self.tmpdir = tempfile.mkdtemp(prefix='junction-rs-')
        args = [self.binary]
        for u in self.listen:
            args += ['--listen', u.replace('{tmp}', self.tmpdir or '')]
        expected = len(self.listen)
        if self.config is not None:
            self.config_path = os.path.join(self.tmpdir, 'junction.json')
            self.write_config(self.config)
            args += ['--config', self.config_path]
            expected = len(self.config.get('listeners', [{}]))
        for r in self.realms:
            args += ['--realm', r]
        args += self.extra_args + self._thread_args()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = _LISTENING_RE.findall(self.output())
            if len(found) >= expected:
                self.listeners = found
                self.urls = {}
                for u in found:
                    # ws / rs / unix; any other scheme a listener may log is kept under its scheme
                    kind = 'unix' if u.startswith('unix:') else u.split('://', 1)[0]
                    self.urls.setdefault(kind, u)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.03)
        err = 'router {} did not log "listening on" for all {} listeners (exit code {}): {}'.format(
            args, expected, self.proc.poll(), self.output()[-2000:])
        self.stop()
        raise RuntimeError(err)

    def write_config(self, config):
        """Writes `config` (a dict; '{tmp}' in strings becomes the router's temp dir) as the config file,
        after checking it against config/junction.schema.json: every config a test uses is a valid one
        unless the test says otherwise (write_raw_config)."""
        text = json.dumps(config, indent=2).replace('{tmp}', self.tmpdir)
        validate_config(json.loads(text))
        self.write_raw_config(text)

    def write_raw_config(self, text):
        with open(self.config_path + '.new', 'w') as f:
            f.write(text)
        os.replace(self.config_path + '.new', self.config_path)

    def reload(self, config=None):
        """Rewrites the config file (when given) and sends SIGHUP."""
        if config is not None:
            self.config = config
            self.write_config(config)
        self.proc.send_signal(signal.SIGHUP)

    def wait_for_log(self, text, timeout=None, count=1):
        """Waits until the router's output holds `text` (at least `count` times); returns the output."""
        deadline = time.monotonic() + (timeout or T)
        while True:
            out = self.output()
            if out.count(text) >= count:
                return out
            if time.monotonic() > deadline:
                raise AssertionError('the router did not log {!r}; its log ends with: {}'.format(text, out[-2500:]))
            time.sleep(0.02)

    def output(self):
        if not self.log:
            return ''
        # pread: the router writes through the same open file (shared offset), so never move the offset
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode('utf-8', 'replace')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        if SANITIZED and self.proc:
            report = _SANITIZER_RE.search(self.output())
            if report:
                raise AssertionError('sanitizer report from {}: {}'.format(
                    self.binary, self.output()[report.start():report.start() + 3000]))


# ---------------------------------------------------------------------------------------------
# Autobahn WAMP sessions
# ---------------------------------------------------------------------------------------------

class Session(ApplicationSession):
    """An ApplicationSession that exposes its lifecycle as futures.

    joined       -> SessionDetails, or raises Aborted if the router answered HELLO with ABORT
    left         -> CloseDetails of the end of the current session (GOODBYE reply, ABORT, transport loss)
    disconnected -> set when the WebSocket / RawSocket connection is gone
    .ws is Autobahn's transport protocol: a WebSocket client protocol, or a RawSocket client protocol
    (.transport_kind says which: 'ws', 'rs', 'unix').
    """

    def __init__(self, config, auto_join=True, keep_transport=False, join_kwargs=None, on_challenge=None):
        super().__init__(config)
        self.join_kwargs = join_kwargs or {}
        self.on_challenge = on_challenge
        self.challenges = []
        self._loop = asyncio.get_running_loop()
        self.auto_join = auto_join
        self.keep_transport = keep_transport
        self.welcomes = []
        self.leaves = []
        self.ws = None
        self.transport_kind = 'ws'
        self.disconnected = self._loop.create_future()
        self._new_futures()

    def _new_futures(self):
        self.joined = _quiet(self._loop.create_future())
        self.left = _quiet(self._loop.create_future())

    # autobahn callbacks
    def onConnect(self):
        if self.auto_join:
            self.join(self.config.realm, **self.join_kwargs)

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        if self.on_challenge is None:
            raise Exception('no credentials for authmethod {}'.format(challenge.method))
        return self.on_challenge(self, challenge)

    def onWelcome(self, msg):
        self.welcomes.append(msg)
        return None

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        self.leaves.append(details)
        if not self.joined.done():
            self.joined.set_exception(Aborted(details.reason, details.message))
        if not self.left.done():
            self.left.set_result(details)
        d = self._errback_outstanding_requests(ApplicationError(details.reason, details.message))
        if not self.keep_transport and self._transport:
            try:
                self.disconnect()
            except Exception:
                pass
        return d

    def onDisconnect(self):
        if not self.joined.done():
            self.joined.set_exception(TransportClosed('transport closed before WELCOME'))
        if not self.left.done():
            self.left.set_exception(TransportClosed('transport closed'))
        if not self.disconnected.done():
            self.disconnected.set_result(True)

    # helpers
    @property
    def serializer_id(self):
        return self.ws._serializer.SERIALIZER_ID

    async def rejoin(self, realm):
        self._new_futures()
        self.join(realm)
        return await asyncio.wait_for(asyncio.shield(self.joined), T)

    async def leave_wait(self, reason=None):
        self.leave(reason)
        return await asyncio.wait_for(asyncio.shield(self.left), T)

    def drop(self):
        """Kill the TCP (or Unix socket) connection without any WAMP or WebSocket goodbye."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    async def close(self):
        if self.disconnected.done() or self.ws is None:
            return
        try:
            if self.transport_kind == 'ws':
                if self.ws.transport is not None and not self.ws.transport.is_closing():
                    self.ws.sendClose(1000)
            else:
                # RawSocket has no closing handshake: close the stream. A connection that never got
                # through the RawSocket handshake has no session attached, so wait for the protocol itself.
                if self.ws.transport is None:
                    return
                self.ws.transport.close()
                await asyncio.wait_for(asyncio.shield(self.ws.is_closed), 2)
                return
            await asyncio.wait_for(asyncio.shield(self.disconnected), 2)
        except Exception:
            self.drop()


class _WampRawSocketClientProtocol(WampRawSocketClientProtocol):
    """Debian's Autobahn 22.7.1 asyncio RawSocket client protocol lacks the `transport_details` property that
    ApplicationSession reads on WELCOME (AttributeError in onWelcome -> the client sends ABORT
    wamp.error.cannot_authenticate and drops the connection). The WebSocket protocol has it; add it here.
    Left as is: it does not answer a router's PING (PrefixProtocol.ping raises NotImplementedError, which
    ends the connection), so a session idle past the router's keepalive interval is lost. Tests here are
    far shorter than the default interval (30 s)."""

    @property
    def transport_details(self):
        return self._transport_details


async def connect(ser='json', realm=None, url=None, join=True, keep_transport=False, serializers=None,
                  transport=None, ssl_context=None, join_kwargs=None, on_challenge=None):
    """Open a WAMP connection with Autobahn; by default wait for WELCOME.

    url picks the listener (ws://..., rs://HOST:PORT, unix:/PATH, wss://..., rss://HOST:PORT); without url, the
    main router's listener for `transport` ('ws' default, 'rs', 'unix', 'wss', 'rss'). TLS uses ssl_context,
    or tls_context() (trusting JUNCTION_CA) if none is given. WebSocket offers `serializers` (default: just
    `ser`); RawSocket takes exactly one serializer. join_kwargs go to Autobahn's join() (authmethods,
    authid, authextra, ...); on_challenge(session, challenge) answers a CHALLENGE (Autobahn's onChallenge).
    """
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    url = url or address(transport or 'ws')
    kind = transport_of(url)
    sess = Session(ComponentConfig(realm=realm or REALM), auto_join=join, keep_transport=keep_transport,
                   join_kwargs=join_kwargs, on_challenge=on_challenge)
    sess.transport_kind = kind
    sers = serializers if serializers is not None else [make_serializer(ser)]
    if kind == 'ws':
        factory = WampWebSocketClientFactory(lambda: sess, url=url, serializers=sers, loop=loop)
        factory.setProtocolOptions(openHandshakeTimeout=T, closeHandshakeTimeout=2, maxFramePayloadSize=0,
                                   maxMessagePayloadSize=0, autoFragmentSize=0, tcpNoDelay=True)
    else:
        if len(sers) != 1:
            raise ValueError('RawSocket negotiates exactly one serializer, got {}'.format(sers))
        factory = WampRawSocketClientFactory(lambda: sess, serializer=sers[0])
        factory.protocol = _WampRawSocketClientProtocol
    _transport, proto = await asyncio.wait_for(_create_connection(loop, factory, url, ssl_context), T)
    sess.ws = proto
    if join:
        if kind == 'ws':
            await asyncio.wait_for(asyncio.shield(sess.joined), T)
        else:
            # A refused RawSocket handshake never reaches the session (Autobahn just closes the stream),
            # so also watch the protocol's own closed future.
            done, _ = await asyncio.wait([sess.joined, proto.is_closed], timeout=T,
                                         return_when=asyncio.FIRST_COMPLETED)
            if sess.joined in done:
                sess.joined.result()  # raises Aborted / TransportClosed
            elif done:
                raise TransportClosed('RawSocket connection to {} closed before WELCOME (handshake refused?)'
                                      .format(url))
            else:
                proto.transport and proto.transport.abort()
                raise asyncio.TimeoutError('no WELCOME from {} within {}s'.format(url, T))
    return sess


# ---------------------------------------------------------------------------------------------
# Raw WebSocket client (Autobahn's asyncio WebSocketClientProtocol) for byte-exact frames
# ---------------------------------------------------------------------------------------------

class _RawProto(WebSocketClientProtocol):
    def onConnect(self, response):
        self.factory.owner.response = response

    def onOpen(self):
        o = self.factory.owner
        if not o.opened.done():
            o.opened.set_result(True)

    def onMessage(self, payload, isBinary):
        self.factory.owner.queue.put_nowait((payload, isBinary))

    def onCloseFrame(self, code, reasonRaw):
        o = self.factory.owner
        if o.close_frame is None:
            o.close_frame = (code, reasonRaw)
        return super().onCloseFrame(code, reasonRaw)

    def onClose(self, wasClean, code, reason):
        o = self.factory.owner
        if not o.opened.done():
            o.opened.set_exception(TransportClosed('WebSocket handshake failed: {} {}'.format(code, reason)))
        if not o.closed.done():
            o.closed.set_result((wasClean, code, reason))
        o.queue.put_nowait(None)


class RawWebSocket:
    """A WebSocket client that sends/receives exact bytes."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.opened = _quiet(self.loop.create_future())
        self.closed = self.loop.create_future()
        self.response = None
        self.close_frame = None  # (code, reason bytes) of the close frame the router sent
        self.proto = None

    @classmethod
    async def open(cls, url=None, protocols=('wamp.2.json',), ssl_context=None):
        self = cls()
        txaio.config.loop = self.loop
        url = url or URL
        factory = WebSocketClientFactory(url=url, protocols=list(protocols), loop=self.loop)
        factory.protocol = _RawProto
        factory.owner = self
        factory.setProtocolOptions(openHandshakeTimeout=T, closeHandshakeTimeout=2, maxFramePayloadSize=0,
                                   maxMessagePayloadSize=0, autoFragmentSize=0, tcpNoDelay=True,
                                   serverConnectionDropTimeout=2)
        host, port, _ = split_url(url)
        _t, self.proto = await asyncio.wait_for(
            self.loop.create_connection(factory, host, port, ssl=ssl_for(url, ssl_context)), T)
        await asyncio.wait_for(asyncio.shield(self.opened), T)
        return self

    @property
    def protocol_in_use(self):
        return self.proto.websocket_protocol_in_use

    def send(self, payload, is_binary):
        self.proto.sendMessage(payload, isBinary=is_binary)

    async def recv(self, timeout=None):
        """Next (payload, is_binary); raises TransportClosed if the connection closed first."""
        item = await asyncio.wait_for(self.queue.get(), timeout or T)
        if item is None:
            self.queue.put_nowait(None)
            raise TransportClosed('connection closed by router (close frame {})'.format(self.close_frame))
        return item

    async def wait_closed(self, timeout=None):
        return await asyncio.wait_for(asyncio.shield(self.closed), timeout or T)

    def is_closed(self):
        return self.closed.done()

    async def close(self):
        if self.closed.done():
            return
        try:
            self.proto.sendClose(1000)
            await asyncio.wait_for(asyncio.shield(self.closed), 2)
        except Exception:
            if self.proto.transport is not None:
                self.proto.transport.abort()

    def drop(self):
        if self.proto.transport is not None:
            self.proto.transport.abort()


# ---------------------------------------------------------------------------------------------
# Raw RawSocket client (plain asyncio, no Autobahn) for byte-exact frames
# ---------------------------------------------------------------------------------------------

RS_MAGIC = 0x7F
RS_MESSAGE, RS_PING, RS_PONG = 0, 1, 2


def rs_handshake(ser='json', length_exp=15):
    """The 4-octet client handshake: 0x7F, LLLL SSSS, 0, 0."""
    return bytes([RS_MAGIC, (length_exp << 4) | RAWSOCKET_SERIALIZER_IDS[ser], 0, 0])


def rs_header(frame_type, length):
    """4-octet frame header: RRRR XTTT + 24-bit length (X = 25th length bit, set only for exactly 2^24)."""
    if length == 1 << 24:
        return bytes([0x08 | frame_type, 0, 0, 0])
    if not 0 <= length < 1 << 24:
        raise ValueError('RawSocket frame length {} out of range'.format(length))
    return bytes([frame_type]) + length.to_bytes(3, 'big')


def rs_frame(frame_type, payload):
    return rs_header(frame_type, len(payload)) + payload


class _RawSocketProto(asyncio.Protocol):
    def __init__(self, owner):
        self.owner = owner

    def connection_made(self, transport):
        self.owner.transport = transport

    def data_received(self, data):
        self.owner._feed(data)

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
        self.owner._lost(exc)


class RawSocket:
    """A WAMP RawSocket client that sends/receives exact frames (same interface as RawWebSocket).

    open() does the handshake and checks the reply (magic, serializer echoed); .reply is the router's 4
    octets and .peer_limit the length it announced. recv() returns the next message frame as
    (payload, is_binary) (is_binary just mirrors the serializer, for RawWamp); PINGs from the router are
    answered with PONG automatically (and kept in .router_pings); PONGs go to recv_pong(). A frame header
    with reserved bits from the router fails the next recv(). .received keeps every octet the router sent.
    """

    close_frame = None  # RawWebSocket compatibility: RawSocket has no close frame

    def __init__(self, ser='json'):
        self.loop = asyncio.get_running_loop()
        self.ser = ser
        self.queue = asyncio.Queue()
        self.pongs = asyncio.Queue()
        self.reply = _quiet(self.loop.create_future())
        self.closed = self.loop.create_future()
        self.transport = None
        self.buf = bytearray()
        self.received = bytearray()
        self.router_pings = []
        self.peer_limit = None
        self.url = None

    @classmethod
    async def connect(cls, url=None, ser='json'):
        """TCP / Unix connection only, no handshake sent yet."""
        self = cls(ser)
        self.url = url or address('rs')
        await asyncio.wait_for(_create_connection(self.loop, lambda: _RawSocketProto(self), self.url), T)
        return self

    @classmethod
    async def open(cls, ser='json', url=None, length_exp=15):
        self = await cls.connect(url, ser)
        hs = rs_handshake(ser, length_exp)
        self.write(hs)
        try:
            reply = await asyncio.wait_for(asyncio.shield(self.reply), T)
        except asyncio.TimeoutError:
            self.drop()
            raise asyncio.TimeoutError('no RawSocket handshake reply from {} to {} within {}s'.format(
                self.url, hs.hex(' '), T))
        if reply[0] != RS_MAGIC or reply[1] & 0x0F != RAWSOCKET_SERIALIZER_IDS[ser] or reply[2:] != b'\0\0':
            self.drop()
            raise TransportClosed('RawSocket handshake {} to {} answered with {}'.format(
                hs.hex(' '), self.url, reply.hex(' ')))
        self.peer_limit = 2 ** (9 + (reply[1] >> 4))
        return self

    # incoming
    def _feed(self, data):
        self.received += data
        self.buf += data
        if not self.reply.done():
            if len(self.buf) < 4:
                return
            self.reply.set_result(bytes(self.buf[:4]))
            del self.buf[:4]
        while len(self.buf) >= 4:
            h = self.buf[0]
            ftype = h & 0x07
            if h & 0xF0 or ftype > RS_PONG:
                self.queue.put_nowait(AssertionError('router sent a RawSocket frame header with reserved bits: '
                                                     '{}'.format(bytes(self.buf[:4]).hex(' '))))
                self.drop()
                return
            n = int.from_bytes(self.buf[1:4], 'big') | ((h & 0x08) << 21)
            if len(self.buf) < 4 + n:
                return
            payload = bytes(self.buf[4:4 + n])
            del self.buf[:4 + n]
            if ftype == RS_MESSAGE:
                self.queue.put_nowait(payload)
            elif ftype == RS_PING:
                self.router_pings.append(payload)
                self.send_frame(RS_PONG, payload)
            else:
                self.pongs.put_nowait(payload)

    def _lost(self, exc):
        if not self.reply.done():
            self.reply.set_exception(TransportClosed('connection closed before the RawSocket handshake reply '
                                                     '(received {!r})'.format(bytes(self.received))))
        if not self.closed.done():
            self.closed.set_result(exc)
        self.transport = None
        self.queue.put_nowait(None)
        self.pongs.put_nowait(None)

    # outgoing
    def write(self, data):
        """Exact octets (no framing)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_frame(self, frame_type, payload):
        self.write(rs_frame(frame_type, payload))

    def send(self, payload, is_binary=None):
        self.send_frame(RS_MESSAGE, payload)

    def ping(self, payload=b''):
        self.send_frame(RS_PING, payload)

    async def recv(self, timeout=None):
        item = await asyncio.wait_for(self.queue.get(), timeout or T)
        if item is None:
            self.queue.put_nowait(None)
            raise TransportClosed('RawSocket connection closed by router')
        if isinstance(item, Exception):
            raise item
        return item, self.ser != 'json'

    async def recv_pong(self, timeout=None):
        item = await asyncio.wait_for(self.pongs.get(), timeout or T)
        if item is None:
            self.pongs.put_nowait(None)
            raise TransportClosed('RawSocket connection closed by router before PONG')
        return item

    async def wait_closed(self, timeout=None):
        return await asyncio.wait_for(asyncio.shield(self.closed), timeout or T)

    def is_closed(self):
        return self.closed.done()

    async def close(self):
        if self.closed.done() or self.transport is None:
            return
        self.transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 2)
        except Exception:
            self.drop()

    def drop(self):
        if self.transport is not None:
            self.transport.abort()


class RawWamp:
    """WAMP messages (lists) over a RawWebSocket or RawSocket (.ws) with one serializer; request ids managed
    by the caller."""

    def __init__(self, ws, ser):
        self.ws = ws
        self.ser = ser
        self.session_id = None
        self.welcome = None
        self._req = 0

    @classmethod
    async def open(cls, ser='json', url=None, transport=None):
        url = url or address(transport or 'ws')
        if transport_of(url) == 'ws':
            ws = await RawWebSocket.open(url, protocols=['wamp.2.' + ser])
        else:
            ws = await RawSocket.open(ser, url)
        return cls(ws, ser)

    @classmethod
    async def joined(cls, ser='json', realm=None, url=None, transport=None):
        self = await cls.open(ser, url, transport)
        await self.hello(realm or REALM)
        return self

    def next_id(self):
        self._req += 1
        return self._req

    def send(self, msg):
        payload, binary = encode(self.ser, msg)
        self.ws.send(payload, binary)

    async def recv(self, timeout=None):
        payload, binary = await self.ws.recv(timeout)
        expect_binary = self.ser != 'json'
        if binary != expect_binary:
            raise AssertionError('router sent a {} frame on a {} connection: {!r}'.format(
                'binary' if binary else 'text', self.ser, payload[:200]))
        return decode(self.ser, payload)

    async def expect(self, code, timeout=None):
        msg = await self.recv(timeout)
        if not isinstance(msg, list) or not msg or msg[0] != code:
            raise AssertionError('expected message type {}, got {!r}'.format(code, msg))
        return msg

    async def expect_nothing(self, seconds=0.3):
        try:
            msg = await self.recv(seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError('expected no message, got {!r}'.format(msg))

    async def hello(self, realm=None):
        self.send([HELLO, realm or REALM, {'roles': CLIENT_ROLES}])
        msg = await self.recv()
        if msg[0] != WELCOME:
            raise AssertionError('expected WELCOME, got {!r}'.format(msg))
        self.welcome = msg
        self.session_id = msg[1]
        self._req = 0
        return msg

    async def request(self, msg, reply_code):
        """Send a request whose element 1 is its request id; wait for the reply or ERROR to it."""
        self.send(msg)
        while True:
            r = await self.recv()
            if r[0] in (reply_code, ERROR):
                return r
            if r[0] == ABORT:
                raise AssertionError('router aborted the session: {!r}'.format(r))
            # ignore unrelated traffic (e.g. EVENT)

    async def register(self, procedure):
        rid = self.next_id()
        r = await self.request([REGISTER, rid, {}, procedure], REGISTERED)
        if r[0] != REGISTERED or r[1] != rid:
            raise AssertionError('REGISTER {} failed: {!r}'.format(procedure, r))
        return r[2]

    async def subscribe(self, topic):
        rid = self.next_id()
        r = await self.request([SUBSCRIBE, rid, {}, topic], SUBSCRIBED)
        if r[0] != SUBSCRIBED or r[1] != rid:
            raise AssertionError('SUBSCRIBE {} failed: {!r}'.format(topic, r))
        return r[2]

    async def close(self):
        await self.ws.close()


# ---------------------------------------------------------------------------------------------
# Bare WebSocket on asyncio streams (no Autobahn: it never answers pings by itself and sends
# whatever frame it is told, malformed ones included)
# ---------------------------------------------------------------------------------------------

async def ws_open(port, path='/ws', protocol='wamp.2.json', host='127.0.0.1'):
    """(reader, writer) after a successful opening handshake; the 101 response head is consumed."""
    r, w = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(('GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
             'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
             'Sec-WebSocket-Protocol: %s\r\n\r\n' % (path, key, protocol)).encode())
    head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)
    assert head.startswith(b'HTTP/1.1 101 '), head
    return r, w


def ws_frame(opcode, payload, fin=True, masked=True, rsv=0, length=None):
    """A client frame. rsv: the three RSV bits (0-7); length: the length to announce (default the payload's)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if masked else 0
    if n < 126:
        head = struct.pack('!BB', b0, m | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, m | 126, n)
    else:
        head = struct.pack('!BBQ', b0, m | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


async def ws_read(r):
    """(opcode, payload) of the next server frame; raises IncompleteReadError when closed."""
    b0, b1 = await r.readexactly(2)
    assert b1 & 0x80 == 0, 'server frames are never masked'
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack('>H', await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack('>Q', await r.readexactly(8))[0]
    return b0 & 0x0F, await r.readexactly(n)


# ---------------------------------------------------------------------------------------------
# Raw HTTP (handshake-level checks)
# ---------------------------------------------------------------------------------------------

async def http_upgrade(path, protocols=None, url=None, upgrade=True):
    """Send a WebSocket opening handshake (or a plain GET); return (status, headers dict lower-case)."""
    host, port, _ = split_url(url or URL)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), T)
    try:
        lines = ['GET {} HTTP/1.1'.format(path), 'Host: {}:{}'.format(host, port)]
        if upgrade:
            lines += ['Upgrade: websocket', 'Connection: Upgrade',
                      'Sec-WebSocket-Key: ' + base64.b64encode(os.urandom(16)).decode('ascii'),
                      'Sec-WebSocket-Version: 13']
            if protocols:
                lines.append('Sec-WebSocket-Protocol: ' + ', '.join(protocols))
        else:
            lines.append('Connection: close')
        writer.write(('\r\n'.join(lines) + '\r\n\r\n').encode('ascii'))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), T)
        text = head.decode('latin-1').split('\r\n')
        status = int(text[0].split()[1])
        headers = {}
        for line in text[1:]:
            if ':' in line:
                k, v = line.split(':', 1)
                headers[k.strip().lower()] = v.strip()
        return status, headers
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1)
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# Test case plumbing
# ---------------------------------------------------------------------------------------------

class WampCases:
    """Mixin for test classes. Track connections so they are closed after each test.

    SER / TRANSPORT are the cell of the matrix a generated class runs in; session() and raw() use them
    unless told otherwise (a url= picks the transport by its scheme).
    """

    SER = 'json'
    TRANSPORT = 'ws'

    async def asyncSetUp(self):
        txaio.config.loop = asyncio.get_running_loop()
        self._closers = []
        address('ws')              # raises if JUNCTION_URL is not set
        address(self.TRANSPORT)    # ... or JUNCTION_RS / JUNCTION_UNIX / JUNCTION_WSS / JUNCTION_RSS

    async def asyncTearDown(self):
        for c in reversed(self._closers):
            try:
                await c.close()
            except Exception:
                pass

    async def session(self, ser=None, realm=None, **kw):
        if kw.get('url') is None and kw.get('transport') is None:
            kw['transport'] = self.TRANSPORT
        s = await connect(ser or self.SER, realm=realm, **kw)
        self._closers.append(s)
        return s

    async def raw(self, ser=None, realm=None, join=True, url=None, transport=None):
        if url is None and transport is None:
            transport = self.TRANSPORT
        ser = ser or self.SER
        r = await (RawWamp.joined(ser, realm, url, transport) if join else RawWamp.open(ser, url, transport))
        self._closers.append(r)
        return r

    async def raw_as(self, roles, ser=None, realm=None, url=None):
        """A raw session that announces exactly `roles` (HELLO.Details.roles) when it joins."""
        r = await self.raw(ser, join=False, url=url)
        r.send([HELLO, realm or REALM, {'roles': roles}])
        w = await r.expect(WELCOME)
        r.welcome = w
        r.session_id = w[1]
        return r

    async def raw_register(self, r, proc, **options):
        """REGISTER `proc` with `options` on raw session r; returns the registration id."""
        rid = r.next_id()
        reply = await r.request([REGISTER, rid, options, proc], REGISTERED)
        self.assertEqual(reply[:2], [REGISTERED, rid], 'REGISTER {} {}: {!r}'.format(proc, options, reply))
        return reply[2]

    async def assertAppError(self, awaitable, error_uri):
        try:
            res = await asyncio.wait_for(awaitable, T)
        except ApplicationError as e:
            self.assertEqual(e.error, error_uri, 'wrong error URI: {}'.format(e))
            return e
        self.fail('expected ApplicationError {}, got result {!r}'.format(error_uri, res))

    def assertIdRange(self, value, what='id'):
        self.assertIsInstance(value, int, '{} must be an integer'.format(what))
        self.assertNotIsInstance(value, bool, '{} must be an integer'.format(what))
        self.assertTrue(1 <= value <= MAX_ID, '{} {} not in [1, 2^53]'.format(what, value))


def _with_timeout(fn):
    @functools.wraps(fn)
    async def wrapper(self):
        # A class may need longer (LONG_TEST_TIMEOUT: the flood tests); never less than the default.
        return await asyncio.wait_for(fn(self), max(TEST_TIMEOUT, getattr(self, 'LONG_TEST_TIMEOUT', 0)))
    return wrapper


def _wrap_tests(ns):
    for name, val in list(ns.items()):
        if name.startswith('test') and asyncio.iscoroutinefunction(val):
            ns[name] = _with_timeout(val)


def make_case(cls, name, attrs):
    """A unittest TestCase named `name` with cls's test methods (each under the per-test timeout)."""
    ns = {'__module__': cls.__module__, '__qualname__': name}
    ns.update(attrs)
    for attr in dir(cls):
        if attr.startswith('test'):
            ns[attr] = getattr(cls, attr)
    _wrap_tests(ns)
    return type(name, (cls, unittest.IsolatedAsyncioTestCase), ns)


def _cell_name(base, transport, ser=None):
    """Class name of one cell: WebSocket cells keep the historic names (Name_json / Name), the others carry
    the transport (Name_rs_json, Name_unix_msgpack, Name_wss_json, Name_rss_msgpack, Name_rs)."""
    parts = [base] + ([transport] if transport != 'ws' else []) + ([ser] if ser else [])
    return '_'.join(parts)


def each_serializer(cls):
    """Class decorator: emit one TestCase per serializer (Name_json, Name_msgpack, Name_cbor) into the
    module, WebSocket only."""
    module = sys.modules[cls.__module__]
    for ser in SERIALIZERS:
        name = _cell_name(cls.__name__, 'ws', ser)
        setattr(module, name, make_case(cls, name, {'SER': ser}))
    return cls


def each_transport_and_serializer(cls=None, *, transports=TRANSPORTS):
    """Class decorator: emit one TestCase per transport x serializer into the module:
    Name_json, Name_msgpack, Name_cbor (WebSocket), Name_rs_json, Name_rs_msgpack, ... (RawSocket TCP),
    Name_unix_json, Name_unix_msgpack (RawSocket over a Unix socket), Name_wss_json, Name_wss_msgpack
    (WebSocket over TLS), Name_rss_json, Name_rss_msgpack (RawSocket over TLS). Usable as
    @each_transport_and_serializer or @each_transport_and_serializer(transports=('ws', 'rs'))."""
    def deco(cls):
        module = sys.modules[cls.__module__]
        for transport in transports:
            for ser in SERIALIZERS:
                name = _cell_name(cls.__name__, transport, ser)
                setattr(module, name, make_case(cls, name, {'SER': ser, 'TRANSPORT': transport}))
        return cls
    return deco(cls) if cls is not None else deco


def each_transport(cls=None, *, transports=TRANSPORTS):
    """Class decorator for classes that pick serializers themselves: one TestCase per transport.
    The WebSocket one keeps the class's name (and is what the decorator returns); the others are
    Name_rs, Name_unix, Name_wss and Name_rss."""
    def deco(cls):
        module = sys.modules[cls.__module__]
        result = cls
        for transport in transports:
            name = _cell_name(cls.__name__, transport)
            case = make_case(cls, name, {'TRANSPORT': transport})
            if transport == 'ws':
                result = case
            else:
                setattr(module, name, case)
        return result
    return deco(cls) if cls is not None else deco


def single(cls):
    """Class decorator: a TestCase that is not per-serializer (WebSocket unless it says otherwise)."""
    return make_case(cls, cls.__name__, {})


class Inbox:
    """Collects events delivered to an Autobahn handler."""

    def __init__(self):
        self.queue = asyncio.Queue()

    def handler(self, *args, **kwargs):
        details = kwargs.pop('details', None)
        self.queue.put_nowait((args, kwargs, details))

    async def get(self):
        return await asyncio.wait_for(self.queue.get(), T)

    async def assert_empty(self, test, seconds=0.3):
        try:
            item = await asyncio.wait_for(self.queue.get(), seconds)
        except asyncio.TimeoutError:
            return
        test.fail('unexpected event {!r}'.format(item))


async def gather_all(*aws):
    return await asyncio.gather(*aws)


async def sleep(s):
    await asyncio.sleep(s)

"""Shared helpers for the Junction black-box conformance suite (Autobahn|Python, asyncio).

Environment (set by conformance/run, or by run_tests.py when it starts its own router):
  JUNCTION_URL     ws://127.0.0.1:PORT/ws of a running router with realms REALM and REALM2
  JUNCTION_REALM   first realm  (default realm1)
  JUNCTION_REALM2  second realm (default realm2)
  JUNCTION_BIN     router binary, for tests that start an extra router (default build/router/junction)
  JUNCTION_TIMEOUT seconds to wait for any single router reaction (default 5)

Everything here waits with a timeout, so a hung router fails a test instead of hanging the run.
"""

import asyncio
import base64
import functools
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

import msgpack
import txaio

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import (  # noqa: E402
    WampWebSocketClientFactory,
    WebSocketClientFactory,
    WebSocketClientProtocol,
)
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(CONFORMANCE_DIR)

URL = os.environ.get('JUNCTION_URL', '')
REALM = os.environ.get('JUNCTION_REALM', 'realm1')
REALM2 = os.environ.get('JUNCTION_REALM2', 'realm2')
BIN = os.environ.get('JUNCTION_BIN', os.path.join(REPO_ROOT, 'build', 'router', 'junction'))
T = float(os.environ.get('JUNCTION_TIMEOUT', '5'))
TEST_TIMEOUT = float(os.environ.get('JUNCTION_TEST_TIMEOUT', '40'))

SERIALIZERS = ('json', 'msgpack')
MAX_ID = 2 ** 53

# Router features the router is specified to announce in WELCOME (basic profile only: none).
# Update this when the router starts announcing advanced-profile features it implements.
ANNOUNCED_FEATURES = {'broker': set(), 'dealer': set()}

# HELLO.Details.roles a raw client sends.
CLIENT_ROLES = {'caller': {}, 'callee': {}, 'publisher': {}, 'subscriber': {}}

# Message codes
HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
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
    raise ValueError('unknown serializer {!r}'.format(name))


def encode(ser, msg):
    """Encode a WAMP message (a list) the way a spec-conformant peer does; returns (payload, is_binary)."""
    if ser == 'json':
        return json.dumps(msg, separators=(',', ':')).encode('utf-8'), False
    return msgpack.packb(msg, use_bin_type=True), True


def decode(ser, payload):
    if ser == 'json':
        return json.loads(payload.decode('utf-8'))
    return msgpack.unpackb(payload, raw=False, strict_map_key=False)


def split_url(url):
    u = urllib.parse.urlparse(url)
    return u.hostname, u.port or 80, u.path or '/'


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

class RouterProcess:
    def __init__(self, binary=None, realms=None, extra_args=(), path='/ws'):
        self.binary = binary or BIN
        self.realms = realms if realms is not None else [REALM, REALM2]
        self.extra_args = list(extra_args)
        self.path = path
        self.port = None
        self.proc = None
        self.log = None

    @property
    def url(self):
        return 'ws://127.0.0.1:{}{}'.format(self.port, self.path)

    def start(self, wait=10.0):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError('router binary {} is missing or not executable'.format(self.binary))
        last_err = None
        for _attempt in range(3):
            self.port = free_port()
            args = [self.binary, '--host', '127.0.0.1', '--port', str(self.port), '--path', self.path]
            for r in self.realms:
                args += ['--realm', r]
            args += self.extra_args
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

    def output(self):
        if not self.log:
            return ''
        self.log.seek(0)
        return self.log.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# Autobahn WAMP sessions
# ---------------------------------------------------------------------------------------------

class Session(ApplicationSession):
    """An ApplicationSession that exposes its lifecycle as futures.

    joined       -> SessionDetails, or raises Aborted if the router answered HELLO with ABORT
    left         -> CloseDetails of the end of the current session (GOODBYE reply, ABORT, transport loss)
    disconnected -> set when the WebSocket is gone
    """

    def __init__(self, config, auto_join=True, keep_transport=False):
        super().__init__(config)
        self._loop = asyncio.get_running_loop()
        self.auto_join = auto_join
        self.keep_transport = keep_transport
        self.welcomes = []
        self.leaves = []
        self.ws = None
        self.disconnected = self._loop.create_future()
        self._new_futures()

    def _new_futures(self):
        self.joined = _quiet(self._loop.create_future())
        self.left = _quiet(self._loop.create_future())

    # autobahn callbacks
    def onConnect(self):
        if self.auto_join:
            self.join(self.config.realm)

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
        """Kill the TCP connection without any WAMP or WebSocket goodbye."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    async def close(self):
        if self.disconnected.done() or self.ws is None:
            return
        try:
            if self.ws.transport is not None and not self.ws.transport.is_closing():
                self.ws.sendClose(1000)
            await asyncio.wait_for(asyncio.shield(self.disconnected), 2)
        except Exception:
            self.drop()


async def connect(ser='json', realm=None, url=None, join=True, keep_transport=False, serializers=None):
    """Open a WAMP-over-WebSocket connection with Autobahn; by default wait for WELCOME."""
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    sess = Session(ComponentConfig(realm=realm or REALM), auto_join=join, keep_transport=keep_transport)
    sers = serializers if serializers is not None else [make_serializer(ser)]
    url = url or URL
    factory = WampWebSocketClientFactory(lambda: sess, url=url, serializers=sers, loop=loop)
    factory.setProtocolOptions(openHandshakeTimeout=T, closeHandshakeTimeout=2, maxFramePayloadSize=0,
                               maxMessagePayloadSize=0, autoFragmentSize=0, tcpNoDelay=True)
    host, port, _ = split_url(url)
    _transport, proto = await asyncio.wait_for(loop.create_connection(factory, host, port), T)
    sess.ws = proto
    if join:
        await asyncio.wait_for(asyncio.shield(sess.joined), T)
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
    async def open(cls, url=None, protocols=('wamp.2.json',)):
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
        _t, self.proto = await asyncio.wait_for(self.loop.create_connection(factory, host, port), T)
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


class RawWamp:
    """WAMP messages (lists) over a RawWebSocket with one serializer; request ids managed by the caller."""

    def __init__(self, ws, ser):
        self.ws = ws
        self.ser = ser
        self.session_id = None
        self.welcome = None
        self._req = 0

    @classmethod
    async def open(cls, ser='json', url=None):
        ws = await RawWebSocket.open(url, protocols=['wamp.2.' + ser])
        return cls(ws, ser)

    @classmethod
    async def joined(cls, ser='json', realm=None, url=None):
        self = await cls.open(ser, url)
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
    """Mixin for test classes. Track connections so they are closed after each test."""

    SER = 'json'

    async def asyncSetUp(self):
        txaio.config.loop = asyncio.get_running_loop()
        self._closers = []
        if not URL:
            raise RuntimeError('JUNCTION_URL is not set (use conformance/run or run_tests.py)')

    async def asyncTearDown(self):
        for c in reversed(self._closers):
            try:
                await c.close()
            except Exception:
                pass

    async def session(self, ser=None, realm=None, **kw):
        s = await connect(ser or self.SER, realm=realm, **kw)
        self._closers.append(s)
        return s

    async def raw(self, ser=None, realm=None, join=True, url=None):
        r = await (RawWamp.joined(ser or self.SER, realm, url) if join else RawWamp.open(ser or self.SER, url))
        self._closers.append(r)
        return r

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
        return await asyncio.wait_for(fn(self), TEST_TIMEOUT)
    return wrapper


def _wrap_tests(ns):
    for name, val in list(ns.items()):
        if name.startswith('test') and asyncio.iscoroutinefunction(val):
            ns[name] = _with_timeout(val)


def each_serializer(cls):
    """Class decorator: emit one TestCase per serializer (Name_json, Name_msgpack) into the module."""
    module = sys.modules[cls.__module__]
    for ser in SERIALIZERS:
        name = '{}_{}'.format(cls.__name__, ser)
        ns = {'SER': ser, '__module__': cls.__module__, '__qualname__': name}
        for attr in dir(cls):
            if attr.startswith('test'):
                ns[attr] = getattr(cls, attr)
        _wrap_tests(ns)
        setattr(module, name, type(name, (cls, unittest.IsolatedAsyncioTestCase), ns))
    return cls


def single(cls):
    """Class decorator: a TestCase that is not per-serializer."""
    ns = {'__module__': cls.__module__, '__qualname__': cls.__name__}
    for attr in dir(cls):
        if attr.startswith('test'):
            ns[attr] = getattr(cls, attr)
    _wrap_tests(ns)
    return type(cls.__name__, (cls, unittest.IsolatedAsyncioTestCase), ns)


async def gather_all(*aws):
    return await asyncio.gather(*aws)


async def sleep(s):
    await asyncio.sleep(s)

#!/usr/bin/python3
"""Run the Junction Python conformance suite.

    /usr/bin/python3 conformance/python/run_tests.py [-k PATTERN ...] [-v] [--list]

Uses JUNCTION_URL (WebSocket), JUNCTION_RS (RawSocket HOST:PORT), JUNCTION_UNIX (RawSocket socket path),
JUNCTION_WSS (WebSocket over TLS URL), JUNCTION_RSS (RawSocket over TLS HOST:PORT) and JUNCTION_CA (their CA)
if JUNCTION_URL is set; otherwise makes a throwaway CA and server certificate (openssl) and starts a router
from JUNCTION_BIN (default build/router/junction) with realms JUNCTION_REALM/JUNCTION_REALM2 and --listen
ws://127.0.0.1:0/ws, rs://127.0.0.1:0, a Unix socket in a temp dir, wss://127.0.0.1:0/ws and rss://127.0.0.1:0
(a router without --listen: WebSocket only), and stops it afterwards.
Last line of output: "python: N passed, M failed" (each test x transport x serializer counts once).
Exit status: 0 only if nothing failed.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MODULES = ['test_session', 'test_rpc', 'test_pubsub', 'test_pubsub_advanced', 'test_realms', 'test_interop', 'test_transport',
           'test_rawsocket', 'test_malformed', 'test_cli', 'test_batched', 'test_keepalive', 'test_universal', 'test_tls', 'test_limits',
           'test_rpc_advanced', 'test_meta', 'test_busy_poll', 'test_websocket', 'test_reentrancy', 'test_config_file', 'test_ops', 'test_readme', 'test_auth', 'test_authz', 'test_payload_size', 'test_flood', 'test_faults', 'test_echo_junction', 'test_threads', 'test_passthrough', 'test_bridge']


def router_alive():
    import socket
    import harness
    host, port, _ = harness.split_url(harness.URL)
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


class Result(unittest.TestResult):
    def __init__(self, stream, verbose, deadline):
        super().__init__()
        self.stream = stream
        self.verbose = verbose
        self.deadline = deadline
        self.passed = 0
        self.failed = []  # (test id, text)
        self.ran = set()
        self.abandoned = None
        self._t0 = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.ran.add(test.id())
        self._t0 = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        if time.monotonic() > self.deadline:
            self.abandoned = 'suite deadline (JUNCTION_SUITE_DEADLINE) exceeded'
            self.stop()
        elif self.failed and self.failed[-1][0] == test.id() and not router_alive():
            self.abandoned = 'router no longer accepts connections'
            self.stop()

    def _line(self, status, test):
        self.stream.write('{:<5} {} ({:.2f}s)\n'.format(status, test.id(), time.monotonic() - self._t0))
        self.stream.flush()

    def addSuccess(self, test):
        self.passed += 1
        self._line('ok', test)

    def addFailure(self, test, err):
        self.failed.append((test.id(), self._exc_info_to_string(err, test)))
        self._line('FAIL', test)

    def addError(self, test, err):
        self.failed.append((test.id(), self._exc_info_to_string(err, test)))
        self._line('ERROR', test)

    def addSkip(self, test, reason):
        # nothing is optional in this suite: a skip is a failure
        self.failed.append((test.id(), 'skipped: ' + reason))
        self._line('SKIP', test)

    def addExpectedFailure(self, test, err):
        self.passed += 1
        self._line('ok', test)

    def addUnexpectedSuccess(self, test):
        self.failed.append((test.id(), 'unexpected success'))
        self._line('FAIL', test)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.failed.append((subtest.id(), self._exc_info_to_string(err, test)))
            self._line('FAIL', subtest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-k', action='append', default=[], help='only tests whose id contains this substring')
    ap.add_argument('-v', action='store_true', help='let Autobahn/txaio log (JUNCTION_VERBOSE=1)')
    ap.add_argument('--list', action='store_true', help='list the tests and exit')
    ap.add_argument('--name', default='python', help='the suite name on the summary line (default python)')
    args = ap.parse_args()
    if args.v:
        os.environ['JUNCTION_VERBOSE'] = '1'

    router = None
    pki_dir = None
    if not os.environ.get('JUNCTION_URL') and not args.list:
        import harness
        if harness.router_supports_listen():
            # a throwaway CA + server certificate for the wss:// and rss:// cells
            pki_dir = tempfile.mkdtemp(prefix='junction-pki-')
            harness.make_pki(pki_dir)
            os.environ['JUNCTION_CA'] = os.path.join(pki_dir, 'ca.pem')
            router = harness.RouterProcess(listen=harness.LISTEN_ALL + harness.listen_tls(pki_dir)).start()
        else:
            router = harness.RouterProcess().start()
        for k, v in router.env().items():
            os.environ[k] = v
        harness.URL = os.environ.get('JUNCTION_URL', '')
        harness.RS = os.environ.get('JUNCTION_RS', '')
        harness.UNIX = os.environ.get('JUNCTION_UNIX', '')
        harness.WSS = os.environ.get('JUNCTION_WSS', '')
        harness.RSS = os.environ.get('JUNCTION_RSS', '')
        harness.CA = os.environ.get('JUNCTION_CA', '')
        print('started {} at {}'.format(router.binary, ' '.join(router.listeners or [router.url])), flush=True)

    import harness  # noqa: F401  (after JUNCTION_URL is settled)
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ['*{}*'.format(k) for k in args.k]
    suite = unittest.TestSuite()
    for name in MODULES:
        suite.addTests(loader.loadTestsFromName(name))

    if args.list:
        for t in _iter(suite):
            print(t.id())
        return 0

    all_ids = [t.id() for t in _iter(suite)]
    t0 = time.monotonic()
    result = Result(sys.stdout, args.v, t0 + float(os.environ.get('JUNCTION_SUITE_DEADLINE', '420')))
    try:
        suite.run(result)
    finally:
        if router:
            router.stop()
        if pki_dir:
            shutil.rmtree(pki_dir, ignore_errors=True)
    not_run = [tid for tid in all_ids if tid not in result.ran] if result.abandoned else []
    for tid, text in result.failed:
        sys.stdout.write('\n' + '=' * 78 + '\n' + tid + '\n' + '-' * 78 + '\n' + text)
    if result.failed:
        sys.stdout.write('\nfailed:\n' + ''.join('  {}\n'.format(t) for t, _ in result.failed))
    if not_run:
        sys.stdout.write('\nABANDONED: {}; {} tests not run, counted as failed\n'.format(result.abandoned, len(not_run)))
    sys.stdout.write('\n({:.1f}s)\n'.format(time.monotonic() - t0))
    nfailed = len(result.failed) + len(not_run)
    sys.stdout.write('{}: {} passed, {} failed\n'.format(args.name, result.passed, nfailed))
    sys.stdout.flush()
    return 1 if nfailed or result.passed == 0 else 0


def _iter(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _iter(t)
        else:
            yield t


if __name__ == '__main__':
    sys.exit(main())

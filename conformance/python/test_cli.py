"""The junction executable: --help, --version, flag errors, the embedded default realm, shutdown."""

import asyncio
import os
import shutil
import subprocess
import tempfile

from harness import BIN, REPO_ROOT, T, Aborted, RouterProcess, WampCases, connect, single


def _listening_lines(text):
    return [line.split('listening on ', 1)[1].strip() for line in text.splitlines() if 'listening on ' in line]


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=10)


@single
class CliTests(WampCases):

    async def test_version(self):
        p = run('--version')
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r'^junction \d+\.\d+\.\d+\ncommit [0-9a-f]+(-dirty)?\nbuild \w+, gcc \S+')
        self.assertIn('metrics on', p.stdout)
        self.assertIn('OpenSSL 3', p.stdout)

    async def test_no_runtime_dependency_beyond_debian_libraries(self):
        p = subprocess.run(['ldd', BIN], capture_output=True, text=True, timeout=10)
        libs = {line.split()[0] for line in p.stdout.splitlines() if line.strip()}
        allowed = {'linux-vdso.so.1', 'libssl.so.3', 'libcrypto.so.3', 'libstdc++.so.6', 'libm.so.6',
                   'libgcc_s.so.1', 'libc.so.6', '/lib64/ld-linux-x86-64.so.2', 'libargon2.so.1',
                   # sanitizer builds (script/test's asan level)
                   'libasan.so.8', 'libubsan.so.1'}
        self.assertLessEqual(libs, allowed, p.stdout)

    async def test_the_systemd_unit_verifies(self):
        # systemd-analyze checks the unit's syntax and directives; the binary path must exist, so a
        # copy points at the binary under test.
        unit = os.path.join(REPO_ROOT, 'config', 'junction.service')
        with open(unit) as f:
            text = f.read()
        self.assertIn('Type=exec', text)
        self.assertIn('ExecReload=/bin/kill -HUP $MAINPID', text)
        d = tempfile.mkdtemp()
        try:
            copy = os.path.join(d, 'junction.service')
            with open(copy, 'w') as f:
                f.write(text.replace('/usr/local/bin/junction', os.path.abspath(BIN)))
            p = subprocess.run(['systemd-analyze', 'verify', copy], capture_output=True, text=True, timeout=60)
            problems = [l for l in (p.stdout + p.stderr).splitlines() if 'junction.service' in l]
            self.assertEqual(problems, [])
        finally:
            shutil.rmtree(d)

    async def test_help_documents_the_flags(self):
        p = run('--help')
        self.assertEqual(p.returncode, 0)
        for flag in ('--host', '--port', '--path', '--listen', '--realm', '--max-message-size', '--log-level',
                     '--strict-request-ids', '--version'):
            self.assertIn(flag, p.stdout)
        self.assertIn('ws://127.0.0.1:8080/ws', p.stdout)

    async def test_bad_flags_are_refused_with_a_reason(self):
        for args, text in ((['--bogus'], "unknown option '--bogus'"),
                           (['--port', 'http'], '--port'),
                           (['--port', '70000'], '--port'),
                           (['--path', 'ws'], "must start with '/'"),
                           (['--log-level', 'loud'], '--log-level'),
                           (['--max-message-size', '-1'], '--max-message-size'),
                           (['--realm'], 'needs a value'),
                           (['--listen', 'ftp://127.0.0.1:1'], '--listen'),
                           (['--listen', 'rs://127.0.0.1'], '--listen'),
                           (['--listen', 'unix:relative.sock'], '--listen'),
                           (['--listen', 'rs://127.0.0.1:0?max-message-size=10'], '--listen'),
                           (['--listen', 'rs://127.0.0.1:0', '--port', '9000'], '--listen')):
            p = run(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(text, p.stderr, args)

    async def test_default_realm_is_realm1(self):
        router = RouterProcess(realms=[]).start()  # no --realm flag at all
        try:
            url = router.url
            s = await connect('json', realm='realm1', url=url)
            await s.close()
            with self.assertRaises(Aborted) as ctx:
                await connect('json', realm='realm2', url=url)
            self.assertIn('wamp.error.no_such_realm', str(ctx.exception))
        finally:
            router.stop()

    async def test_only_the_listed_listeners(self):
        # with --listen, only those listeners exist (no default ws://127.0.0.1:8080/ws besides)
        router = RouterProcess(listen=['unix:{tmp}/only.sock']).start()
        try:
            await asyncio.sleep(0.1)
            logged = _listening_lines(router.output())
            self.assertEqual(logged, [router.unix_url], 'listeners logged: {}'.format(logged))
            s = await connect('msgpack', url=router.unix_url)
            await s.close()
        finally:
            router.stop()

    async def test_sigterm_says_goodbye_system_shutdown(self):
        router = RouterProcess().start()
        try:
            s = await connect('msgpack', url=router.url)
            router.proc.terminate()
            details = await asyncio.wait_for(asyncio.shield(s.left), T)
            self.assertEqual(details.reason, 'wamp.close.system_shutdown')
            self.assertEqual(await asyncio.to_thread(router.proc.wait, 10), 0)
        finally:
            router.stop()

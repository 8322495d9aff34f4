"""The junction executable: --help, --version, flag errors, the embedded default realm, shutdown."""

import asyncio
import subprocess

from harness import BIN, T, Aborted, RouterProcess, WampCases, connect, single


def _listening_lines(text):
    return [line.split('listening on ', 1)[1].strip() for line in text.splitlines() if 'listening on ' in line]


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=10)


@single
class CliTests(WampCases):

    async def test_version(self):
        p = run('--version')
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r'^junction \d+\.\d+\.\d+')

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

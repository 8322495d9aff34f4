"""The README's examples run as a newcomer would run them: each "Five lines to try it" example is taken
from README.md as written (only its URL is pointed at this test's router), runs with Debian's
Autobahn|Python or with Node and the Autobahn|JS of conformance/js, prints 5 and ends by itself."""

import asyncio
import os
import re

from harness import REPO_ROOT, RouterProcess, WampCases, single

README = os.path.join(REPO_ROOT, 'README.md')
NODE_MODULES = os.path.join(REPO_ROOT, 'conformance', 'js', 'node_modules')
DEFAULT_URL = 'ws://127.0.0.1:8080/ws'


def examples(language):
    with open(README) as f:
        text = f.read()
    section = text.split('## Five lines to try it', 1)[1].split('\n## ', 1)[0]
    return re.findall(r'```' + language + r'\n(.*?)```', section, re.S)


@single
class ReadmeExamples(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = RouterProcess(realms=['realm1']).start()

    async def asyncTearDown(self):
        self.router.stop()
        await super().asyncTearDown()

    async def run_example(self, code, *command, env=None):
        self.assertIn(DEFAULT_URL, code, 'the example no longer uses the embedded default URL')
        code = code.replace(DEFAULT_URL, self.router.url)
        p = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE,
                                                 stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.STDOUT, env=env)
        try:
            out, _ = await asyncio.wait_for(p.communicate(code.encode()), 20)
        except asyncio.TimeoutError:
            p.kill()
            await p.wait()
            self.fail('the example did not end by itself within 20 s')
        self.assertEqual(p.returncode, 0, out.decode())
        self.assertEqual(out.decode().splitlines()[0], '5', out.decode())

    async def test_autobahn_python_example(self):
        found = examples('python')
        self.assertEqual(len(found), 1)
        await self.run_example(found[0], '/usr/bin/python3', '-')

    async def test_autobahn_js_example(self):
        found = examples('js')
        self.assertEqual(len(found), 1)
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        await self.run_example(found[0], 'node', '-', env=env)

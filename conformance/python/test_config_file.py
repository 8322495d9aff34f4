"""The config file from the outside: `junction --check-config` and the published JSON Schema
(config/junction.schema.json, checked with Debian's python3-jsonschema) agree on a table of good and
bad files; the shipped example is accepted by both; the schema and docs/CONFIG.md are what the binary
generates; a router started from a file serves every listener and realm it names."""

import json
import os
import subprocess
import tempfile

import jsonschema

from harness import BIN, REPO_ROOT, RouterProcess, WampCases, connect, single, split_url

SCHEMA_PATH = os.path.join(REPO_ROOT, 'config', 'junction.schema.json')
EXAMPLE_PATH = os.path.join(REPO_ROOT, 'config', 'junction.json')
CONFIG_DOC = os.path.join(REPO_ROOT, 'docs', 'CONFIG.md')

GOOD = [
    {},
    {'//': ['comments', 'anywhere']},
    {'listeners': [{'type': 'ws', 'port': 0}], 'realms': [{'name': 'a'}]},
    {'listeners': [{'type': 'universal', 'host': '::1', 'port': 0, 'admin': False}]},
    {'listeners': [{'type': 'rss', 'port': 0, 'tls': {'cert': 'c', 'key': 'k', 'ca': 'a', 'verify_client': True}}]},
    {'listeners': [{'type': 'universal', 'port': 0, 'tls': {'cert': 'c', 'key': 'k'}}]},
    {'listeners': [{'type': 'unix', 'socket': '/tmp/x.sock', '// why': 'local'}]},
    {'listeners': [{'type': 'http', 'port': 9100}]},
    {'realms': [{'name': 'a', 'uri_check': 'strict', 'disclose_caller': 'never', 'disclose_publisher': 'always',
                 'max_retained_events': 0, 'progressive_call_memory': 1}]},
    {'log': {'level': 'debug', 'format': 'json'}, 'busy_poll_us': 10000, 'strict_request_ids': True,
     'limits': {'max_outbound_bytes': 65536}, 'shutdown': {'drain_timeout_ms': 0},
     'admin': {'stall_threshold_ms': 100, 'reload_endpoint': False}},
    {'realms': [{'name': 'a', 'max_retained_events': 5.0}]},  # an integral float is an integer to both
]

# (config, the JSON pointer Junction names). Each is refused by the schema too.
BAD = [
    ({'realms': [{'name': 'a'}, {'name': 'b', 'max_retained_events': 'ten'}]}, '/realms/1/max_retained_events'),
    ({'realms': [{'name': 'a', 'max_retained_events': -1}]}, '/realms/0/max_retained_events'),
    ({'realms': [{'name': 'a', 'max_retained_events': 2.5}]}, '/realms/0/max_retained_events'),
    ({'realms': [{'name': 'a', 'discloze_caller': 'always'}]}, '/realms/0/discloze_caller'),
    ({'realms': [{'name': 'a', 'disclose_caller': 'sometimes'}]}, '/realms/0/disclose_caller'),
    ({'realms': [{}]}, '/realms/0/name'),
    ({'realms': [{'name': ''}]}, '/realms/0/name'),
    ({'realms': []}, '/realms'),
    ({'realms': {'name': 'a'}}, '/realms'),
    ({'listeners': [{'type': 'ws', 'port': 70000}]}, '/listeners/0/port'),
    ({'listeners': [{'type': 'ws', 'prot': 1}]}, '/listeners/0/prot'),
    ({'listeners': [{'type': 'ftp'}]}, '/listeners/0/type'),
    ({'listeners': [{'port': 1}]}, '/listeners/0/type'),
    ({'listeners': [{'type': 'wss', 'port': 0}]}, '/listeners/0/tls'),
    ({'listeners': [{'type': 'ws', 'tls': {'cert': 'c', 'key': 'k'}}]}, '/listeners/0/tls'),
    ({'listeners': [{'type': 'wss', 'tls': {'cert': 'c'}}]}, '/listeners/0/tls/key'),
    ({'listeners': [{'type': 'rss', 'tls': {'cert': 'c', 'key': 'k', 'verify_client': True}}]}, '/listeners/0/tls/ca'),
    ({'listeners': [{'type': 'unix'}]}, '/listeners/0/socket'),
    ({'listeners': [{'type': 'unix', 'socket': '/s', 'port': 1}]}, '/listeners/0/port'),
    ({'listeners': [{'type': 'rs', 'path': '/ws'}]}, '/listeners/0/path'),
    ({'listeners': [{'type': 'rs', 'admin': True}]}, '/listeners/0/admin'),
    ({'listeners': [{'type': 'http', 'path': '/x'}]}, '/listeners/0/path'),
    ({'listeners': [{'type': 'ws', 'handshake_timeout_ms': 0}]}, '/listeners/0/handshake_timeout_ms'),
    ({'listeners': [{'type': 'ws', 'max_message_size': 10}]}, '/listeners/0/max_message_size'),
    ({'listeners': [{'type': 'ws', 'keepalive': {'interval_ms': 'often'}}]}, '/listeners/0/keepalive/interval_ms'),
    ({'listeners': []}, '/listeners'),
    ({'log': {'level': 'loud'}}, '/log/level'),
    ({'log': 'info'}, '/log'),
    ({'busy_poll_us': 20000}, '/busy_poll_us'),
    ({'strict_request_ids': 'yes'}, '/strict_request_ids'),
    ({'limits': {'max_outbound_bytes': 1}}, '/limits/max_outbound_bytes'),
    ({'shutdown': {'drain_timeout_ms': None}}, '/shutdown/drain_timeout_ms'),
    ({'listen': []}, '/listen'),
]

# Refused by Junction, beyond what a JSON Schema can say (docs/CONFIG.md says so).
JUNCTION_ONLY = [
    ({'realms': [{'name': 'a'}, {'name': 'a'}]}, '/realms/1/name'),
    ({'listeners': [{'type': 'ws', 'port': 9000}, {'type': 'rs', 'port': 9000}]}, '/listeners/1'),
    ({'listeners': [{'type': 'rs', 'max_message_size': 100}]}, '/listeners/0/max_message_size'),
]


def check_config(text):
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        f.write(text)
        path = f.name
    try:
        p = subprocess.run([BIN, '--check-config', path], capture_output=True, text=True, timeout=10)
    finally:
        os.unlink(path)
    return p.returncode, (p.stdout + p.stderr).replace(path, 'FILE')


@single
class ConfigFileTests(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        with open(SCHEMA_PATH) as f:
            self.schema = json.load(f)
        self.validator = jsonschema.Draft202012Validator(self.schema)

    async def test_the_schema_is_what_the_binary_publishes(self):
        jsonschema.Draft202012Validator.check_schema(self.schema)
        printed = subprocess.run([BIN, '--print-schema'], capture_output=True, text=True, timeout=10).stdout
        self.assertEqual(json.loads(printed), self.schema,
                         'config/junction.schema.json is stale: regenerate it with junction --print-schema')

    async def test_config_md_holds_the_key_reference(self):
        reference = subprocess.run([BIN, '--config-reference'], capture_output=True, text=True, timeout=10).stdout
        with open(CONFIG_DOC) as f:
            doc = f.read()
        self.assertIn('<!-- BEGIN junction --config-reference -->\n' + reference + '<!-- END junction --config-reference -->',
                      doc, 'docs/CONFIG.md is stale: paste junction --config-reference between its markers')
        self.assertGreater(reference.count('\n| `/'), 35)

    async def test_the_example_is_accepted_by_both(self):
        with open(EXAMPLE_PATH) as f:
            text = f.read()
        example = json.loads(text)
        self.assertEqual(list(self.validator.iter_errors(example)), [])
        rc, out = check_config(text)
        self.assertEqual(rc, 0, out)
        self.assertIn('FILE: ok', out)
        # it uses every section
        self.assertLessEqual({'log', 'busy_poll_us', 'limits', 'shutdown', 'admin', 'listeners', 'realms'},
                             set(example))
        self.assertEqual({l['type'] for l in example['listeners']}, {'universal', 'rs', 'unix', 'wss', 'http'})
        realm_keys = set().union(*(set(r) for r in example['realms']))
        self.assertLessEqual({'auth', 'roles', 'authorization', 'uri_check', 'disclose_caller'}, realm_keys)

    async def test_the_container_config_is_accepted_by_both(self):
        with open(os.path.join(REPO_ROOT, 'config', 'container.json')) as f:
            text = f.read()
        self.assertEqual(list(self.validator.iter_errors(json.loads(text))), [])
        rc, out = check_config(text)
        self.assertEqual(rc, 0, out)

    async def test_good_files_pass_both(self):
        for config in GOOD:
            with self.subTest(config=config):
                self.assertEqual(list(self.validator.iter_errors(config)), [])
                rc, out = check_config(json.dumps(config))
                self.assertEqual(rc, 0, out)

    async def test_bad_files_fail_both_and_junction_names_the_pointer(self):
        for config, pointer in BAD:
            with self.subTest(config=config):
                self.assertNotEqual(list(self.validator.iter_errors(config)), [], 'the schema accepts it')
                rc, out = check_config(json.dumps(config))
                self.assertEqual(rc, 2, out)
                self.assertIn('junction: FILE: ' + pointer + ': ', out)

    async def test_what_only_junction_refuses(self):
        for config, pointer in JUNCTION_ONLY:
            with self.subTest(config=config):
                rc, out = check_config(json.dumps(config))
                self.assertEqual(rc, 2, out)
                self.assertIn('junction: FILE: ' + pointer + ': ', out)

    async def test_files_that_are_not_json(self):
        for text, where in (('{"realms": [', 'line 1, column 13'), ('{} {}', 'line 1, column 4'),
                            ('', 'line 1, column 1'), ('{"a": 1,\n "b": }', 'line 2, column 7')):
            with self.subTest(text=text):
                rc, out = check_config(text)
                self.assertEqual(rc, 2, out)
                self.assertIn('junction: FILE: ' + where + ': not valid JSON', out)

    async def test_a_refused_file_stops_junction_at_start(self):
        with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
            json.dump({'realms': [{'name': 'a', 'max_retained_events': 'ten'}]}, f)
        try:
            p = subprocess.run([BIN, '--config', f.name], capture_output=True, text=True, timeout=10)
        finally:
            os.unlink(f.name)
        self.assertEqual(p.returncode, 2)
        self.assertIn('/realms/0/max_retained_events: expected an unsigned integer, got "ten"', p.stderr)

    async def test_a_router_from_a_file_serves_every_listener_and_realm(self):
        router = RouterProcess(config={
            'listeners': [{'type': 'universal', 'port': 0}, {'type': 'ws', 'port': 0, 'path': '/wamp'},
                          {'type': 'rs', 'port': 0}, {'type': 'unix', 'socket': '{tmp}/j.sock'},
                          {'type': 'http', 'port': 0}],
            'realms': [{'name': 'alpha'}, {'name': 'beta', 'uri_check': 'strict'}],
        }).start()
        try:
            u = router.urls['universal']
            host, port, _ = split_url(u)
            targets = [('ws://{}:{}/ws'.format(host, port), 'json'), ('rs://{}:{}'.format(host, port), 'msgpack'),
                       (router.urls['ws'], 'msgpack'), (router.urls['rs'], 'json'), (router.urls['unix'], 'json')]
            self.assertTrue(router.urls['ws'].endswith('/wamp'))
            for url, ser in targets:
                for realm in ('alpha', 'beta'):
                    s = await connect(ser, realm=realm, url=url)
                    self.assertEqual(s.joined.result().realm, realm)
                    await s.close()
            # the file's realm settings apply: beta checks URIs strictly
            s = await connect('json', realm='beta', url=targets[0][0])
            try:
                with self.assertRaises(Exception) as ctx:
                    await s.register(lambda: 1, 'com.Example.Upper')
                self.assertIn('wamp.error.invalid_uri', str(ctx.exception))
            finally:
                await s.close()
        finally:
            router.stop()

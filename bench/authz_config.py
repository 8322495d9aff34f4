#!/usr/bin/env python3
"""bench/authz_config.py MODE: the router config of bench/run's authorization rows, on stdout.

  none      realm1 without roles (today's allow-all), the baseline
  static    realm1's anonymous role with 1,000 permissions: exact, prefix and wildcard rules that
            share the bench's URI prefixes (so lookups walk the tries, not a shortcut), plus the
            prefix rules that allow the bench's procedure and topic
  dynamic   realm1's anonymous role asks the authorizer bench.authorize in realm authz (served by
            junction-bench --authorizer; answers cached or not as the generator chooses)

Each listens on a universal listener on 127.0.0.1, port 0 (logged)."""
import json
import sys

RULES = 1000


def static_permissions():
    perms = [
        {'uri': 'bench.rpc.', 'match': 'prefix', 'allow': {'call': True, 'register': True}},
        {'uri': 'bench.fanout.', 'match': 'prefix', 'allow': {'publish': True, 'subscribe': True}},
    ]
    n = 0
    while len(perms) < RULES:
        kind = n % 3
        if kind == 0:
            perms.append({'uri': 'bench.rpc.q%d' % n, 'match': 'exact', 'allow': {'call': True}})
        elif kind == 1:
            perms.append({'uri': 'bench.fanout.t%d.' % n, 'match': 'prefix', 'allow': {'subscribe': True}})
        else:
            perms.append({'uri': 'bench..x%d' % n, 'match': 'wildcard', 'allow': {'call': True, 'publish': True}})
        n += 1
    return perms


def config(mode):
    realm = {'name': 'realm1'}
    if mode == 'static':
        realm['roles'] = [{'name': 'anonymous', 'permissions': static_permissions()}]
    elif mode == 'dynamic':
        realm['roles'] = [{'name': 'anonymous', 'authorizer': 'bench.authorize', 'authorizer_realm': 'authz'}]
    elif mode != 'none':
        raise SystemExit('bench/authz_config.py: MODE is none, static or dynamic')
    return {'listeners': [{'type': 'universal', 'host': '127.0.0.1', 'port': 0}],
            'realms': [realm, {'name': 'authz'}]}


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    json.dump(config(sys.argv[1]), sys.stdout, indent=1)
    print()

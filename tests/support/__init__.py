"""The test toolkit: helpers every test module imports (conftest.py only holds fixtures).

- ``paths``: the checkout's root and probe.py.
- ``runs``: run the probe in-process or as a child process; ``Run`` validates its JSON.
- ``result_schema``: docs/result.schema.json applied to every document a test sees.
- ``pki``: a CA, client certificate and server TLS contexts of every flavour (the
  session-scoped ``pki`` fixture in conftest.py builds one per test session).
- ``net``: ports nobody listens on, black holes, silent listeners, reading an HTTP head.
- ``scripts``: building blocks for ScenarioServer scripts (upgrade, boot, answers).
- ``diagnose``, ``fuzz_replies``, ``serve``, ``loop_process``, ``prometheus``, ``results``:
  helpers of the diagnose, fuzz, serve, loop and reporter tests.
- ``resource_loop``, ``resource_station``: child processes of tests/test_hostile_resources.py.
- ``binaries``: the dist/ binaries of tests/binary/ (--binary-arch, BinaryRunner, poll_until).

Servers the probe talks to live in tests/peers/ (real CSMS stacks, the scenario
server, the Uptime Kuma receiver, the CONNECT proxy, loopback.py's TLS front and silent servers).
"""

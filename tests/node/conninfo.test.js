'use strict';
// Host names are resolved before libpq sees them (its non-blocking
// connect would look them up synchronously, blocking the loop).
const { resolveHosts } = require('../../node/lib/session');
const { pgatomic } = require('./helpers');

test('host_names_become_hostaddr', async () => {
  const { conninfo } = await resolveHosts("host=localhost port=5432 dbname='my db' password='a\\'b'");
  expect(conninfo).toMatch(/hostaddr='[0-9a-f:.,]*(127\.0\.0\.1|::1)[0-9a-f:.,]*'/);
  expect(conninfo).toContain("host='localhost'");
  expect(conninfo).toContain("dbname='my db'");
  expect(conninfo).toContain("password='a\\'b'");
});

test('uri_host_names_become_hostaddr', async () => {
  const { conninfo } = await resolveHosts('postgresql://u@localhost:6543/app?connect_timeout=3');
  expect(conninfo).toMatch(/hostaddr='[0-9a-f:.,]*(127\.0\.0\.1|::1)[0-9a-f:.,]*'/);
  expect(conninfo).toContain("port='6543'");
  expect(conninfo).toContain("dbname='app'");
});

test('sockets_and_addresses_are_left_alone', async () => {
  for (const s of ['host=/tmp port=5', 'host=127.0.0.1', 'postgresql:///db?host=/var/run']) {
    expect((await resolveHosts(s)).conninfo).toBe(s);
  }
  // connect_timeout stays in the string: the core keeps it (deploy.test.js).
  expect((await resolveHosts('connect_timeout=7')).conninfo).toBe('connect_timeout=7');
});

test('unknown_host_rejects_with_ConnectionError', async () => {
  const e = await resolveHosts('host=no-such-host.invalid').catch((x) => x);
  expect(e).toBeInstanceOf(pgatomic.ConnectionError);
  expect(e.message).toMatch(/could not translate host name "no-such-host.invalid"/);
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactArgv, redactDeep, redactEnv, redactText } from './redact.js';

describe('redactText', () => {
  it.each([
    ['mysqld --password=hunter2 --port 3306', 'mysqld --password=[redacted] --port 3306'],
    ['app --db-password hunter2 -v', 'app --db-password [redacted] -v'],
    ['curl https://x/api?token=abc123&page=2', 'curl https://x/api?token=[redacted]&page=2'],
    ['worker access_token="s3 cr3t" next', 'worker access_token=[redacted] next'],
    ['curl -H Authorization: Bearer eyJhbGciOi.J9x', 'curl -H Authorization: bearer [redacted]'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: basic [redacted]'],
    ['psql postgres://app:s3cr3t@db.local:5432/x', 'psql postgres://app:[redacted]@db.local:5432/x'],
    ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY_ID=[redacted]'],
    ['aws s3 ls --profile AKIAIOSFODNN7EXAMPLE', 'aws s3 ls --profile AKIA[redacted]'],
    ['GITHUB_TOKEN=ghp_abcdefghijklmnop', 'GITHUB_TOKEN=[redacted]'],
  ])('%s', (input, want) => {
    expect(redactText(input).toLowerCase()).toBe(want.toLowerCase());
  });

  it('leaves ordinary command lines alone', () => {
    for (const s of [
      'nginx: worker process',
      '/usr/sbin/sshd -D',
      'node server.js --port 8080 --password-file /run/secrets/db',
      'python3 -m http.server 8000',
      'PWD=/home/ops',
      'tcp 10.0.0.1:80 → 10.0.0.2:5123 ESTABLISHED',
      'bash --passive-mode on',
      '',
    ])
      expect(redactText(s)).toBe(s);
  });

  it('is idempotent and does not grow on repeated passes', () => {
    const s = 'x --password=a token=b postgres://u:p@h Authorization: Bearer abcdefghij AKIAIOSFODNN7EXAMPLE';
    const once = redactText(s);
    expect(redactText(once)).toBe(once);
    for (const secret of ['=a ', '=b ', ':p@', 'abcdefghij', 'IOSFODNN7EXAMPLE'])
      expect(once).not.toContain(secret);
  });

  it('survives huge and hostile input in linear-ish time', () => {
    const big = 'a'.repeat(200_000) + ' --token ' + 'x'.repeat(100_000) + '='.repeat(50_000);
    const t0 = performance.now();
    const out = redactText(big);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(out).not.toContain('x'.repeat(1000));
  });
});

describe('redactArgv', () => {
  it('drops the element after a bare secret flag, and the header value', () => {
    expect(
      redactArgv([
        'app',
        '--password',
        'hunter2',
        '-H',
        'Authorization: Bearer zzzzzzzzzz',
        '--api-key',
        '-x',
      ]),
    ).toEqual([
      'app',
      '--password',
      REDACTED,
      '-H',
      'Authorization: Bearer [redacted]',
      '--api-key',
      REDACTED,
    ]);
  });

  it('keeps files that merely hold a secret, and a trailing flag', () => {
    expect(redactArgv(['app', '--token-file', '/run/t', '--password'])).toEqual([
      'app',
      '--token-file',
      '/run/t',
      '--password',
    ]);
  });
});

describe('redactEnv and redactDeep', () => {
  it('redacts environment entries by name and by value', () => {
    expect(
      redactEnv(['HOME=/root', 'DB_PASSWORD=x1', 'API_KEY=k', 'URL=https://u:p@h/x', 'PGPASSWORD=', 'junk']),
    ).toEqual([
      'HOME=/root',
      'DB_PASSWORD=[redacted]',
      'API_KEY=[redacted]',
      'URL=https://u:[redacted]@h/x',
      'PGPASSWORD=[redacted]',
      'junk',
    ]);
  });

  it('walks documents: argv arrays, secret-named keys, nested strings; numbers untouched', () => {
    const doc = {
      pid: 7,
      argv: ['srv', '--secret', 'abc'],
      cmdline: 'srv --secret abc',
      env: { MY_TOKEN: 'zz', LANG: 'C' },
      list: [{ summary: 'see https://a:b@c' }],
      values: new Float64Array([1, 2]),
    };
    const out = redactDeep(doc);
    expect(out.argv).toEqual(['srv', '--secret', REDACTED]);
    expect(out.cmdline).toBe('srv --secret [redacted]');
    expect(out.env).toEqual({ MY_TOKEN: REDACTED, LANG: 'C' });
    expect(out.list[0]?.summary).toBe('see https://a:[redacted]@c');
    expect(out.values).toBe(doc.values);
    expect(doc.argv[2]).toBe('abc');
  });

  it('redacts the command line of a real process on this machine', () => {
    // This very process's argv holds no secret; a synthetic NUL-separated cmdline read like /proc gives it.
    const self = readFileSync('/proc/self/cmdline', 'utf8').split('\0').filter(Boolean);
    expect(redactArgv(self)).toEqual(self.map((a) => redactText(a)));
    const planted = [...self, '--password', 'pl4nted', 'token=pl4nted2'];
    expect(redactArgv(planted).join(' ')).not.toMatch(/pl4nted/);
  });
});

// The last line of defence: whatever a check or an error wrote, secrets are masked.
import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from './redact.ts';

describe('redact', () => {
  it('masks registered values wherever they appear (tokens read from hosts, kubeconfig user fields)', () => {
    registerSecret('Zm9vYmFyYmF6cXV4LXRva2VuLXZhbHVl');
    registerSecret('short'); // too short to mask safely: ignored
    expect(redact('GET with Zm9vYmFyYmF6cXV4LXRva2VuLXZhbHVl failed; short stays')).toBe('GET with [redacted] failed; short stays');
  });

  it('masks private key blocks, also unterminated, and key/token fields by pattern', () => {
    expect(redact('a -----BEGIN RSA PRIVATE\u0020KEY-----\nMIIEow\n-----END RSA PRIVATE\u0020KEY----- b')).toBe(
      'a [redacted private key] b',
    );
    expect(redact('x -----BEGIN PRIVATE\u0020KEY-----\nMIIEvQ truncated')).toBe('x [redacted private key]');
    expect(redact('    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=')).toBe('    client-key-data: [redacted]');
    expect(redact('token=abcdefgh12345678 and "password": "hunter2hunter2"')).toBe('token=[redacted] and "password": "[redacted]"');
    expect(redact('Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig')).toBe('Authorization: Bearer [redacted]');
  });
});

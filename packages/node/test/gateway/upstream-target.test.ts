import { describe, expect, it } from 'vitest';
import { upstreamTarget } from '../../src/gateway/upstream.js';

describe('gateway: inner request paths stay on the upstream (SSRF)', () => {
  const upstream = new URL('http://127.0.0.1:8000');
  it.each(['/v1/chat/completions', '/v1/models?x=1&y=%2F', '/@evil.example/x', '/a/../b'])('accepts %s on the upstream origin', (p) => {
    expect(upstreamTarget(upstream, p)?.origin).toBe('http://127.0.0.1:8000');
  });
  it.each(['//evil.example/x', '/\\evil.example/x', '/\t/169.254.169.254/latest/meta-data', '/\n/evil', 'http://evil.example/', 'evil', '/ space', ''])('refuses %j', (p) => {
    expect(upstreamTarget(upstream, p)).toBeUndefined();
  });
});

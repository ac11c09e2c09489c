import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../src/router.js';
import { createUpstreamPolicy } from '../../src/upstream-policy.js';

let router: Router | undefined;
afterEach(async () => {
  await router?.stop();
  router = undefined;
});

describe('upstream policy', () => {
  it('accepts everything without lists', () => {
    expect(createUpstreamPolicy()('http://169.254.169.254')).toBeNull();
  });

  it('matches names, wildcards, IPs and CIDR ranges', () => {
    const policy = createUpstreamPolicy({ allow: ['gpu-1.lan', '*.gpu.internal', '127.0.0.0/8', '::1', 'fd00::/8'] });
    for (const ok of ['http://gpu-1.lan:11434', 'https://a.b.gpu.internal', 'http://127.0.0.9:8000', 'http://[::1]:1', 'http://[fd00::5]']) {
      expect(policy(ok), ok).toBeNull();
    }
    for (const refused of ['http://gpu-2.lan', 'http://gpu.internal', 'http://10.0.0.1', 'http://[fe80::1]', 'http://evilgpu.internal']) {
      expect(policy(refused), refused).toMatch(/not in the allowed/);
    }
  });

  it('applies the deny list after the allow list', () => {
    const policy = createUpstreamPolicy({ allow: ['10.0.0.0/8'], deny: ['10.0.5.0/24'] });
    expect(policy('http://10.0.4.1')).toBeNull();
    expect(policy('http://10.0.5.1')).toMatch(/denied/);
    expect(createUpstreamPolicy({ deny: ['169.254.0.0/16'] })('http://169.254.169.254')).toMatch(/denied/);
  });

  it('refuses registration outside the policy with a validation error, storing nothing', async () => {
    router = createRouter({ upstreams: { allow: ['127.0.0.0/8'] }, checker: false });
    await router.start();
    await expect(router.endpoints.create({ name: 'x', base_url: 'http://10.1.2.3:8000' })).rejects.toMatchObject({
      code: 'validation_error',
      details: [{ path: 'base_url', message: 'host 10.1.2.3 is not in the allowed upstream hosts' }],
    });
    expect((await router.endpoints.list()).total).toBe(0);
    await router.endpoints.create({ name: 'ok', base_url: 'http://127.0.0.1:8000' });
  });

  it('rejects malformed patterns in the options', () => {
    expect(() => createRouter({ upstreams: { allow: ['10.0.0.0/33'] } })).toThrow(/CIDR/);
    expect(() => createRouter({ upstreams: { deny: ['http://x'] } })).toThrow();
  });
});

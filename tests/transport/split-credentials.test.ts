import { describe, expect, it } from 'vitest';
import { splitCredentials } from '../../src/transport/split-credentials.ts';

describe('splitCredentials', () => {
  it('takes user and password (URL-decoded) from the first URL that has them and strips them from all', () => {
    expect(splitCredentials(['nats://node:p%40ss@a:4222', 'nats://other:x@b:4222', 'nats://c:4222'])).toEqual(
      {
        servers: ['nats://a:4222', 'nats://b:4222', 'nats://c:4222'],
        user: 'node',
        pass: 'p@ss',
      },
    );
  });

  it('reads a URL without a scheme and a token-only URL', () => {
    expect(splitCredentials('u:p@127.0.0.1:4222')).toEqual({
      servers: ['127.0.0.1:4222'],
      user: 'u',
      pass: 'p',
    });
    expect(splitCredentials('nats://s3cret@h:4222')).toEqual({ servers: ['nats://h:4222'], token: 's3cret' });
  });

  it('leaves URLs without credentials alone', () => {
    expect(splitCredentials('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
  });
});

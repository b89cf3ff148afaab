import {
  accessLogFormat,
  GATEWAY_RESPONSES,
  gatewayResponseParameters,
  gatewayResponseTemplate,
} from './apiResponses';

/** What API Gateway does to a template: substitute `$context` variables, nothing more. */
function render(template: string, message = 'Missing Authentication Token'): unknown {
  return JSON.parse(template.replace('$context.error.messageString', JSON.stringify(message)));
}

describe('Gateway responses', () => {
  it.each(GATEWAY_RESPONSES.map((spec) => [spec.type, spec] as const))(
    '%s answers in the broker error shape {"error":{"code","message"}}',
    (_type, spec) => {
      const body = render(gatewayResponseTemplate(spec)) as { error: { code: string; message: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(spec.code);
      expect(typeof body.error.message).toBe('string');
    },
  );

  it('answers an unknown route with 404 not_found, as the local server does', () => {
    const spec = GATEWAY_RESPONSES.find((response) => response.type === 'MISSING_AUTHENTICATION_TOKEN')!;
    expect(spec).toMatchObject({ statusCode: '404', code: 'not_found' });
  });

  it('answers WAF blocks with 403 and stage throttling with 429 and Retry-After', () => {
    const waf = GATEWAY_RESPONSES.find((response) => response.type === 'WAF_FILTERED')!;
    const throttled = GATEWAY_RESPONSES.find((response) => response.type === 'THROTTLED')!;
    expect(waf).toMatchObject({ statusCode: '403', code: 'forbidden' });
    expect(throttled).toMatchObject({ statusCode: '429', code: 'quota_exceeded' });
    expect(gatewayResponseParameters(throttled)).toMatchObject({
      'gatewayresponse.header.Retry-After': "'1'",
    });
  });

  it('covers every other 4xx and 5xx with a default', () => {
    const types = GATEWAY_RESPONSES.map((response) => response.type);
    expect(types).toEqual(expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'ACCESS_DENIED']));
  });

  it('keeps gateway replies out of caches, like the broker replies', () => {
    for (const spec of GATEWAY_RESPONSES) {
      expect(gatewayResponseParameters(spec)).toMatchObject({
        'gatewayresponse.header.Cache-Control': "'no-store'",
      });
    }
  });

  it('refuses a fixed message that API Gateway would try to substitute', () => {
    expect(() =>
      gatewayResponseTemplate({ type: 'DEFAULT_4XX', code: 'forbidden', message: 'costs $5' }),
    ).toThrow(/\$/);
  });
});

describe('Access log format', () => {
  const fields = JSON.parse(accessLogFormat()) as Record<string, string>;

  it('is one line of JSON with request id, ip, method, path, status, latency, length and WAF outcome', () => {
    expect(accessLogFormat()).not.toContain('\n');
    for (const key of [
      'requestId',
      'ip',
      'method',
      'path',
      'status',
      'latency',
      'responseLength',
      'wafResponseCode',
      'wafError',
    ]) {
      expect(fields[key]).toMatch(/^\$context\./);
    }
  });

  it('never logs a request header (Authorization carries the client secret)', () => {
    expect(accessLogFormat()).not.toMatch(/authorization|header|\$input|\$request|apiKey/i);
  });
});

import { CustomDomain, DOMAIN_SECURITY_POLICY } from './domain';
import { ofType, settle, setupMocks, valueOf } from './testing/mocks';

const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab';

async function build(name: string, args: { certificateArn?: string; hostedZoneId?: string }) {
  const resources = setupMocks();
  const domain = new CustomDomain(name, {
    name: 'broker.example.com',
    restApiId: 'api-id',
    stageName: 'api',
    ...args,
  });
  await valueOf(domain.target);
  await settle();
  return { resources, domain };
}

afterAll(() => settle());

describe('Component: CustomDomain', () => {
  it('is a REGIONAL domain with a TLS 1.2 policy, mapped at its root to the stage', async () => {
    const { resources, domain } = await build('given', { certificateArn: CERTIFICATE });
    const [name] = ofType(resources, 'aws:apigateway/domainName:DomainName');
    expect(name!.inputs).toMatchObject({
      domainName: 'broker.example.com',
      endpointConfiguration: { types: 'REGIONAL' },
      regionalCertificateArn: CERTIFICATE,
      securityPolicy: DOMAIN_SECURITY_POLICY,
    });
    expect(DOMAIN_SECURITY_POLICY).toBe('TLS_1_2');
    const [mapping] = ofType(resources, 'aws:apigateway/basePathMapping:BasePathMapping');
    // No base path: Python's Logfire SDK drops any path of its base URL.
    expect(mapping!.inputs).toEqual({
      restApi: 'api-id',
      stageName: 'api',
      domainName: 'broker.example.com',
    });
    expect(await valueOf(domain.url)).toBe('https://broker.example.com');
    expect(await valueOf(domain.target)).toMatch(/\.execute-api\.us-east-1\.amazonaws\.com$/);
    // With a given certificate the operator owns the DNS: no records, no certificate request.
    expect(ofType(resources, 'aws:route53/record:Record')).toEqual([]);
    expect(ofType(resources, 'aws:acm/certificate:Certificate')).toEqual([]);
  });

  it('requests, validates and uses a certificate, and points the name, in a hosted zone it is given', async () => {
    const { resources } = await build('zone', { hostedZoneId: 'Z0123456789ABC' });
    const [certificate] = ofType(resources, 'aws:acm/certificate:Certificate');
    expect(certificate!.inputs).toMatchObject({ domainName: 'broker.example.com', validationMethod: 'DNS' });
    const records = ofType(resources, 'aws:route53/record:Record');
    const validation = records.find((r) => r.inputs.type === 'CNAME')!;
    expect(validation.inputs).toMatchObject({
      zoneId: 'Z0123456789ABC',
      name: '_x1.broker.example.com.',
      records: ['_x2.acm-validations.aws.'],
    });
    const [validated] = ofType(resources, 'aws:acm/certificateValidation:CertificateValidation');
    expect(validated!.inputs).toMatchObject({
      certificateArn: certificate!.state.arn,
      validationRecordFqdns: ['_x1.broker.example.com.'],
    });
    // The domain waits for the validated certificate, not the bare request.
    const [name] = ofType(resources, 'aws:apigateway/domainName:DomainName');
    expect(name!.inputs.regionalCertificateArn).toBe(certificate!.state.arn);
    const aliases = records.filter((r) => r.inputs.type !== 'CNAME');
    expect(aliases.map((r) => r.inputs.type).sort()).toEqual(['A', 'AAAA']);
    for (const alias of aliases) {
      expect(alias.inputs).toMatchObject({
        zoneId: 'Z0123456789ABC',
        name: 'broker.example.com',
        aliases: [{ name: name!.state.regionalDomainName, zoneId: name!.state.regionalZoneId }],
      });
    }
  });

  it('refuses a domain with neither a certificate nor a zone', () => {
    setupMocks();
    expect(
      () => new CustomDomain('none', { name: 'broker.example.com', restApiId: 'a', stageName: 's' }),
    ).toThrow('needs certificateArn or hostedZoneId');
  });
});

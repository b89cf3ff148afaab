/**
 * The broker's own address (issue #12): a REGIONAL custom domain with a TLS 1.2 policy, mapped at its root
 * to the API stage. A CLI bakes its broker URL into every published version; `https://<id>.execute-api...`
 * changes with any replacement of the API or a move to another region, a custom domain does not.
 *
 * With `hostedZoneId` the stack requests the certificate in ACM, validates it by DNS in that zone and
 * points the name (A and AAAA aliases) at the domain; with only `certificateArn` it uses that certificate
 * and the operator points the name at the `customDomainTarget` output.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DomainSettings } from './productionSettings';

export interface CustomDomainArgs extends DomainSettings {
  restApiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
}

/** API Gateway's policy names: TLS_1_2 refuses TLS 1.0 and 1.1. */
export const DOMAIN_SECURITY_POLICY = 'TLS_1_2';

export class CustomDomain extends pulumi.ComponentResource {
  readonly domainName: aws.apigateway.DomainName;
  /** `https://<name>`: the URL to ship. */
  readonly url: pulumi.Output<string>;
  /** Where the name must point (a CNAME or alias target) when the stack does not manage the DNS. */
  readonly target: pulumi.Output<string>;

  constructor(name: string, args: CustomDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:index:CustomDomain', name, {}, opts);
    const { name: domain, certificateArn, hostedZoneId, restApiId, stageName } = args;
    if (!certificateArn && !hostedZoneId) {
      throw new Error(`CustomDomain: ${domain} needs certificateArn or hostedZoneId`);
    }
    const parent = { parent: this };
    const certificate = certificateArn ?? this.validatedCertificate(name, domain, hostedZoneId!);

    this.domainName = new aws.apigateway.DomainName(
      `${name}-domain`,
      {
        domainName: domain,
        endpointConfiguration: { types: 'REGIONAL' },
        regionalCertificateArn: certificate,
        securityPolicy: DOMAIN_SECURITY_POLICY,
      },
      parent,
    );
    // At the root: Python's Logfire SDK drops any path of its base URL, so the relay needs `/v1/...` here.
    new aws.apigateway.BasePathMapping(
      `${name}-mapping`,
      { restApi: restApiId, stageName, domainName: this.domainName.domainName },
      parent,
    );
    if (hostedZoneId) {
      for (const type of ['A', 'AAAA'] as const) {
        new aws.route53.Record(
          `${name}-${type.toLowerCase()}`,
          {
            zoneId: hostedZoneId,
            name: domain,
            type,
            aliases: [
              {
                name: this.domainName.regionalDomainName,
                zoneId: this.domainName.regionalZoneId,
                evaluateTargetHealth: false,
              },
            ],
          },
          parent,
        );
      }
    }
    this.url = pulumi.output(`https://${domain}`);
    this.target = this.domainName.regionalDomainName;
    this.registerOutputs({ url: this.url, target: this.target });
  }

  /** An ACM certificate for the name, validated with a DNS record in the zone; resolves once it is issued. */
  private validatedCertificate(name: string, domain: string, zoneId: string): pulumi.Output<string> {
    const parent = { parent: this };
    const certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      { domainName: domain, validationMethod: 'DNS' },
      parent,
    );
    const option = certificate.domainValidationOptions[0]!;
    const record = new aws.route53.Record(
      `${name}-validation`,
      {
        zoneId,
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      parent,
    );
    return new aws.acm.CertificateValidation(
      `${name}-validated`,
      { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
      parent,
    ).certificateArn;
  }
}

/**
 * The program as `pulumi up` runs it: infra/index.ts imported after the mocks and the stack config, with
 * the bundles `npm run build` writes (built here when missing, so this file also passes when run alone).
 */
import type * as pulumi from '@pulumi/pulumi';
import { existsSync } from 'node:fs';
import { buildLambdas } from '../scripts/build';
import { bundleProblems } from './bundles';
import { deployedHandlers, HANDLERS } from './handlers';
import { ofType, setupMocks, settle, valueOf, type RecordedResource } from './testing/mocks';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
const CREDENTIAL = 'pylf_v1_us_FAKE_UPSTREAM_CREDENTIAL_1ndex0ut';

let resources: RecordedResource[];
let program: typeof import('./index');

beforeAll(async () => {
  if (bundleProblems(HANDLERS).length > 0) await buildLambdas();
  resources = setupMocks({ logfireProjectId: PROJECT_ID, upstreamCredential: CREDENTIAL }, 'prod');
  program = await import('./index');
  await settle();
}, 60_000);

describe('infra/index.ts', () => {
  it('deploys the archives npm run build writes, and they exist on disk', async () => {
    const fns = ofType(resources, 'aws:lambda/function:Function');
    expect(fns).toHaveLength(deployedHandlers('direct').length);
    for (const fn of fns) {
      const assets = await (fn.inputs.code as pulumi.asset.AssetArchive).assets;
      for (const asset of Object.values(assets)) {
        const path = await (asset as pulumi.asset.FileAsset).path;
        expect(path).toMatch(/dist\/functions\/[a-z-]+\/index\.mjs$/);
        expect(existsSync(path)).toBe(true);
      }
    }
  });

  it('manages every AWS resource with the stack provider, which tags them with project and stack', async () => {
    const [provider, ...others] = ofType(resources, 'pulumi:providers:aws');
    expect(others).toEqual([]);
    expect(provider!.inputs).toMatchObject({ region: 'us-east-1' });
    expect(JSON.parse(String(provider!.inputs.defaultTags))).toEqual({
      tags: { project: 'logfire-broker', stack: 'prod' },
    });
    const managed = resources.filter((r) => r.type.startsWith('aws:'));
    expect(managed.length).toBeGreaterThan(50);
    for (const resource of managed) expect(resource.provider).toMatch(/::aws::aws-id$/);
  });

  it('exports the API URL, the table names, the secret ARN and the dashboard URL, and no secret value', async () => {
    const outputs = {
      apiUrl: await valueOf(program.apiUrl),
      tokensTableName: await valueOf(program.tokensTableName),
      auditTableName: await valueOf(program.auditTableName),
      upstreamSecretArn: await valueOf(program.upstreamSecretArn),
      dashboardUrl: await valueOf(program.dashboardUrl),
    };
    for (const value of Object.values(outputs)) expect(value).toEqual(expect.any(String));
    // What a rollback needs: each function's name and the version its live alias is on.
    expect((await valueOf(program.liveVersions)).mint).toEqual({
      functionName: 'logfire-broker-prod-mint',
      version: '7',
    });
    expect(await valueOf(program.jobsDeadLetterQueueUrl!)).toMatch(/^https:\/\/sqs\./);
    expect(program.customDomainTarget).toBeUndefined();
    expect(outputs.upstreamSecretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:/);
    expect(outputs.tokensTableName).toBe('logfire-broker-prod-tokens');
    expect(JSON.stringify(outputs)).not.toContain(CREDENTIAL);
  });

  it('refuses to deploy bundles that were built from other sources', async () => {
    await jest.isolateModulesAsync(async () => {
      const bundles = await import('./bundles');
      jest
        .spyOn(bundles, 'bundleProblems')
        .mockReturnValue(['mint: functions/core/mint.ts changed since the build']);
      const mocks = await import('./testing/mocks');
      const fresh = mocks.setupMocks({ logfireProjectId: PROJECT_ID }, 'prod');
      await expect(import('./index')).rejects.toThrow(
        /functions\/core\/mint.ts changed since the build.*Run `npm run build` before `pulumi up`/,
      );
      await mocks.settle();
      expect(fresh).toEqual([]);
    });
  });

  it('fails at import, before any resource, when the configuration is invalid', async () => {
    await jest.isolateModulesAsync(async () => {
      const mocks = await import('./testing/mocks');
      const fresh = mocks.setupMocks({ logfireProjectId: PROJECT_ID, rateLimit: '5' }, 'prod');
      await expect(import('./index')).rejects.toThrow(
        'logfire-broker:rateLimit must be at least 10 (WAF minimum), got 5',
      );
      await mocks.settle();
      expect(fresh).toEqual([]);
    });
  });
});

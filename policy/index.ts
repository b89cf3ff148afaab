/**
 * The logfire-broker policy pack: `pulumi preview --policy-pack policy` (from the repository root, after
 * `npm install`; the pack uses the repository's node_modules). The rules are in ./rules.ts.
 */
import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './rules';

new PolicyPack('logfire-broker', { policies: POLICIES });

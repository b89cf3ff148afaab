/**
 * The Secrets Manager secret that holds the Logfire credential (R1). By default the stack creates the
 * secret EMPTY: the operator puts the value with
 * `aws secretsmanager put-secret-value --secret-id <upstreamSecretArn> --secret-string '<credential>'`,
 * so the credential never passes through Pulumi at all. The Lambdas read it at first use and cache it for
 * a few minutes (functions/adapters/secrets.ts), so a later put-secret-value needs no redeploy.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface UpstreamSecretArgs {
  /** What the credential is, for the secret's description. */
  upstreamKind: 'api-key' | 'user-token';
  kmsKeyArn?: string;
  /**
   * OPT-IN (`pulumi config set --secret upstreamCredential ...`): the stack writes the value itself.
   * Trade-off: it is then in the Pulumi state and in Pulumi.<stack>.yaml, encrypted with the stack's
   * secrets provider, but there, and readable by anyone who can decrypt the stack. The provider's
   * write-only `secretStringWo` does not avoid this in Pulumi (the bridge still keeps inputs in state).
   */
  credential?: pulumi.Input<string>;
  /** Days Secrets Manager keeps a deleted secret restorable. */
  recoveryWindowInDays: number;
}

export class UpstreamSecret extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  /** Only when the credential came from config. */
  readonly version?: aws.secretsmanager.SecretVersion;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: UpstreamSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:secrets:UpstreamSecret', name, {}, opts);
    const { upstreamKind, kmsKeyArn, credential, recoveryWindowInDays } = args;
    if (recoveryWindowInDays !== 0 && (recoveryWindowInDays < 7 || recoveryWindowInDays > 30)) {
      throw new Error('UpstreamSecret: recoveryWindowInDays must be 0 or from 7 to 30');
    }

    this.secret = new aws.secretsmanager.Secret(
      `${name}-credential`,
      {
        description: `logfire-broker: the Logfire ${upstreamKind === 'api-key' ? 'API key (project:write_token scope)' : 'user token'} that mints write tokens`,
        kmsKeyId: kmsKeyArn,
        recoveryWindowInDays,
      },
      { parent: this },
    );
    if (credential !== undefined) {
      this.version = new aws.secretsmanager.SecretVersion(
        `${name}-credential-value`,
        { secretId: this.secret.id, secretString: pulumi.secret(credential) },
        { parent: this },
      );
    }
    this.arn = this.secret.arn;
    // The ARN only: a value never becomes an output.
    this.registerOutputs({ arn: this.arn });
  }
}

/**
 * The admin second factor's TOTP seed (issue #10), created WITHOUT a value: `logfire-broker otp enroll`
 * makes the seed and puts it with `secretsmanager:PutSecretValue`, so the seed never passes through Pulumi
 * state, its outputs or any log. Only the admin function's role may read it (infra/policies.ts).
 */
export class AdminTotpSeedSecret extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly arn: pulumi.Output<string>;

  constructor(
    name: string,
    args: { kmsKeyArn?: string; recoveryWindowInDays: number },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('logfire-broker:secrets:AdminTotpSeedSecret', name, {}, opts);
    this.secret = new aws.secretsmanager.Secret(
      `${name}-totp-seed`,
      {
        description: 'logfire-broker: the admin TOTP seed (base32); put by `logfire-broker otp enroll`',
        kmsKeyId: args.kmsKeyArn,
        recoveryWindowInDays: args.recoveryWindowInDays,
      },
      { parent: this },
    );
    this.arn = this.secret.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

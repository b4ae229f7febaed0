// Shared by the infra tests: one offline synth (placeholder asset, no Rust build) with the
// context the deploy workflow passes, and a resolver of the template's intrinsics so that
// policies can be evaluated as AWS would see them after the deploy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../bin/app';
import type { Definitions } from '../lib/stockpicks-stack';

/**
 * What vars.EMAIL_SENDER / ALARM_EMAIL hold in a real deploy. Readers are no context any more
 * (issue 15): they are contacts of the SES contact list.
 */
export const PROD_EMAILS = { emailSender: 'picks@stockpicks.test', alarmEmail: 'ops@stockpicks.test' };

/**
 * The context of cdk.json (the feature flags and the defaults), which the CLI passes to the
 * app and `new App()` does not read: the tests synth what `cdk synth` synths.
 */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;

export function synth(context: Record<string, unknown> = PROD_EMAILS, definitions?: Definitions) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-'));
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT, ...context } });
  const stack = buildApp(app, definitions);
  const assembly = app.synth(); // cdk-nag violations make this throw
  return { template: Template.fromStack(stack), outdir, assembly, stack };
}

/** The account, region and names the resolver gives the template's pseudo parameters and resources. */
export const ENV = { account: '111122223333', region: 'us-east-1', partition: 'aws' };

/**
 * Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split the way CloudFormation would
 * for one concrete deploy: a resource's physical name is its declared name when it has one,
 * else its logical id in lower case (CloudFormation's generated names differ, but only the
 * pairing of ARNs between policies matters here).
 */
export function resolver(template: any) {
  const res: Record<string, any> = template.Resources;
  const arn = (service: string, rest: string, region = ENV.region, account: string = ENV.account) => `arn:${ENV.partition}:${service}:${region}:${account}:${rest}`;
  const name = (id: string): string => {
    const r = res[id];
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::S3::Bucket': return p.BucketName ?? id.toLowerCase();
      case 'AWS::Lambda::Function': return p.FunctionName ?? id;
      case 'AWS::SQS::Queue': return p.QueueName ?? id;
      case 'AWS::SNS::Topic': return p.TopicName ?? id;
      case 'AWS::Logs::LogGroup': return p.LogGroupName ?? id;
      case 'AWS::SecretsManager::Secret': return p.Name ?? id;
      case 'AWS::SES::ConfigurationSet': return p.Name ?? id;
      case 'AWS::SES::ContactList': return p.ContactListName ?? id;
      case 'AWS::IAM::Role': return p.RoleName ?? id;
      case 'AWS::CodeDeploy::Application': return p.ApplicationName ?? id;
      case 'AWS::CodeDeploy::DeploymentGroup': return p.DeploymentGroupName ?? id;
      default: return id;
    }
  };
  const arnOf = (id: string): string => {
    const r = res[id];
    switch (r.Type) {
      case 'AWS::S3::Bucket': return `arn:${ENV.partition}:s3:::${name(id)}`;
      case 'AWS::Lambda::Function': return arn('lambda', `function:${name(id)}`);
      case 'AWS::SQS::Queue': return arn('sqs', name(id));
      case 'AWS::SNS::Topic': return arn('sns', name(id));
      case 'AWS::Logs::LogGroup': return arn('logs', `log-group:${name(id)}:*`);
      // Secrets Manager appends six random characters to a secret's name in its ARN.
      case 'AWS::SecretsManager::Secret': return arn('secretsmanager', `secret:${name(id)}-AbCdEf`);
      case 'AWS::KMS::Key': return arn('kms', `key/${id.toLowerCase()}`);
      case 'AWS::IAM::Role': return `arn:${ENV.partition}:iam::${ENV.account}:role/${name(id)}`;
      case 'AWS::Lambda::Version': return `${arnOf(res[id].Properties.FunctionName.Ref)}:7`;
      case 'AWS::Lambda::Alias': return `${arnOf(res[id].Properties.FunctionName.Ref)}:${res[id].Properties.Name}`;
      default: throw new Error(`no ARN for ${r.Type} ${id}`);
    }
  };
  const ref = (id: string): string => {
    switch (id) {
      case 'AWS::AccountId': return ENV.account;
      case 'AWS::Region': return ENV.region;
      case 'AWS::Partition': return ENV.partition;
      case 'AWS::URLSuffix': return 'amazonaws.com';
    }
    const r = res[id];
    if (!r) throw new Error(`Ref to unknown ${id}`);
    // Ref gives the ARN for these types, the name for the others.
    if (['AWS::SNS::Topic', 'AWS::SecretsManager::Secret', 'AWS::Lambda::Version', 'AWS::Lambda::Alias'].includes(r.Type)) return arnOf(id);
    if (r.Type === 'AWS::SQS::Queue') return `https://sqs.${ENV.region}.amazonaws.com/${ENV.account}/${name(id)}`;
    return name(id);
  };
  const resolve = (v: any): any => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1) {
        const [k] = keys;
        const a = v[k];
        if (k === 'Ref') return ref(a);
        if (k === 'Fn::GetAtt') {
          const [id, attr] = a;
          if (attr === 'Arn') return arnOf(id);
          if (attr === 'QueueName' || attr === 'TopicName') return name(id);
          throw new Error(`GetAtt ${id}.${attr}`);
        }
        if (k === 'Fn::Join') return resolve(a[1]).join(a[0]);
        if (k === 'Fn::Select') return resolve(a[1])[a[0]];
        if (k === 'Fn::Split') return resolve(a[1]).split(a[0]);
      }
      return Object.fromEntries(keys.map((k) => [k, resolve(v[k])]));
    }
    return v;
  };
  return { resolve, arnOf, name };
}

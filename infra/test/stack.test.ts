// The stack, synthesized offline with the placeholder asset (no Rust build): every resource
// and property the issue names, least privilege, cdk-nag with reasons, and cfn-lint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../bin/app';
import { loadAlarms, loadLifecycle } from '../lib/definitions';

function synth(context: Record<string, unknown> = {}) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-'));
  const app = new App({ outdir, context });
  const stack = buildApp(app);
  const assembly = app.synth(); // cdk-nag violations make this throw
  return { template: Template.fromStack(stack), outdir, assembly, stack };
}

const base = synth();
const t = base.template;
const resources = t.toJSON().Resources as Record<string, any>;

function statements(): any[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

describe('bucket', () => {
  it('is encrypted, private and SSL-only', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('has the lifecycle rules of lifecycle/rules.json', () => {
    const bucket = Object.values(resources).find((r) => r.Type === 'AWS::S3::Bucket' && r.Properties.LifecycleConfiguration?.Rules?.length > 1);
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    const byId = Object.fromEntries(rules.map((r: any) => [r.Id, r]));
    for (const def of loadLifecycle()) assert.ok(byId[def.id], `rule ${def.id}`);
    assert.equal(byId['runs-expire'].Prefix, 'runs/');
    assert.equal(byId['runs-expire'].ExpirationInDays, 7);
    assert.deepEqual(byId['reports-to-infrequent-access'].Transitions, [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }]);
    assert.equal(byId['abort-incomplete-uploads'].AbortIncompleteMultipartUpload.DaysAfterInitiation, 1);
    assert.equal(byId['cache-expire'].Prefix, 'cache/');
  });
});

describe('function', () => {
  it('runs the prebuilt bootstrap on arm64 with 1024 MB and 900 s', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'stockpicks-prod',
      Runtime: 'provided.al2023',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 900,
      ReservedConcurrentExecutions: 12,
      Environment: { Variables: Match.objectLike({ S3_BUCKET: Match.anyValue(), ALPHA_VANTAGE_SECRET_ARN: Match.anyValue(), SES_CONFIGURATION_SET: Match.anyValue(), EMAIL_SENDER: 'picks@example.com' }) },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/stockpicks-prod', RetentionInDays: 90 });
  });

  it('has the alias live on a published version', () => {
    t.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: Match.anyValue() });
    t.resourceCountIs('AWS::Lambda::Version', 1);
  });

  it('sets async retries, max age and the dead-letter destination on the alias and the version', () => {
    const configs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    assert.equal(configs.length, 2);
    const qualifiers = configs.map((c) => JSON.stringify(c.Properties.Qualifier));
    assert.ok(qualifiers.some((q) => q.includes('AnalysisLive')), `alias config: ${qualifiers}`);
    assert.ok(qualifiers.some((q) => q.includes('Version')), `version config: ${qualifiers}`);
    for (const c of configs) {
      assert.equal(c.Properties.MaximumRetryAttempts, 2);
      assert.equal(c.Properties.MaximumEventAgeInSeconds, 3600);
      assert.ok(c.Properties.DestinationConfig.OnFailure.Destination, 'on-failure destination');
    }
  });
});

describe('schedules', () => {
  it('run weekly on Monday 13:00 UTC and sweep, both on the alias, with retries and a DLQ', () => {
    const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    assert.equal(schedules.length, 2);
    const weekly = schedules.find((s) => s.Properties.Name === 'stockpicks-prod-weekly');
    assert.equal(weekly.Properties.ScheduleExpression, 'cron(0 13 ? * MON *)');
    const input = JSON.parse(weekly.Properties.Target.Input);
    assert.deepEqual(input, { op: 'run', universe: 'sp500', scheduled_time: '<aws.scheduler.scheduled-time>' });
    for (const s of schedules) {
      assert.match(JSON.stringify(s.Properties.Target.Arn), /AnalysisLive/, 'targets the alias');
      assert.equal(s.Properties.Target.RetryPolicy.MaximumRetryAttempts, 3);
      assert.ok(s.Properties.Target.DeadLetterConfig.Arn);
    }
  });
});

describe('secrets and mail', () => {
  it('creates the two secrets without values in the template', () => {
    const secrets = Object.values(resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    assert.equal(secrets.length, 2);
    for (const s of secrets) assert.equal(s.Properties.SecretString, undefined);
    assert.ok(!JSON.stringify(t.toJSON()).match(/apikey=|E2ETESTKEY|sk-[A-Za-z0-9]{10}/), 'no key material');
  });

  it('has an SES configuration set with CloudWatch delivery metrics', () => {
    t.hasResourceProperties('AWS::SES::ConfigurationSet', { Name: 'stockpicks-prod' });
    t.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({ MatchingEventTypes: Match.arrayWith(['send', 'delivery', 'bounce', 'complaint']), CloudWatchDestination: Match.anyValue() }),
    });
  });

  it('has a monthly cost budget with a notification', () => {
    t.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetType: 'COST', TimeUnit: 'MONTHLY' }),
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'ops@example.com' }] })]),
    });
  });
});

describe('least privilege', () => {
  it('never grants lambda, s3, ses or secretsmanager actions on *', () => {
    for (const st of statements()) {
      const actions: string[] = [].concat(st.Action);
      const res: any[] = [].concat(st.Resource);
      const scoped = actions.some((a) => /^(lambda|s3|ses|secretsmanager):/.test(a));
      if (scoped) assert.ok(!res.includes('*'), `statement ${JSON.stringify(st)} has Resource *`);
    }
  });

  it('invokes only this function and its qualifiers', () => {
    const invoke = statements().filter((st) => [].concat(st.Action).includes('lambda:InvokeFunction' as never));
    const text = JSON.stringify(invoke);
    assert.match(text, /function:stockpicks-prod"/);
    assert.match(text, /function:stockpicks-prod:\*"/);
  });

  it('limits S3 to runs/, reports/ and cache/ of this bucket', () => {
    const s3 = statements().filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('s3:')));
    const text = JSON.stringify(s3);
    for (const p of ['runs/*', 'reports/*', 'cache/*']) assert.ok(text.includes(p), p);
    const list = s3.find((st) => [].concat(st.Action).includes('s3:ListBucket' as never));
    assert.deepEqual(list.Condition.StringLike['s3:prefix'], ['runs/*', 'reports/*', 'cache/*']);
  });

  it('limits SES to the sender identity and the configuration set', () => {
    const sesSt = statements().filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('ses:')));
    const text = JSON.stringify(sesSt);
    assert.match(text, /identity\/picks@example.com/);
    assert.match(text, /identity\/example.com/);
    assert.match(text, /configuration-set\/",\{"Ref":"MailConfigurationSet/);
  });
});

describe('alarms, dashboard, delivery', () => {
  it('creates every alarm of alarms/alarms.json with its threshold, on one SNS topic', () => {
    const defs = loadAlarms();
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    assert.equal(alarms.length, defs.length);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    for (const d of defs) {
      const a = alarms.find((x) => x.Properties.AlarmName === `stockpicks-prod-${d.id}`);
      assert.ok(a, d.id);
      assert.equal(a.Properties.Threshold, d.threshold, d.id);
      assert.equal(a.Properties.ComparisonOperator, d.comparison, d.id);
      assert.equal(a.Properties.TreatMissingData, d.treatMissingData, d.id);
      assert.equal(a.Properties.AlarmActions.length, 1, d.id);
    }
    const noRun = alarms.find((x) => x.Properties.AlarmName.endsWith('NoSuccessfulRun'));
    assert.equal(noRun.Properties.TreatMissingData, 'breaching');
    assert.equal(noRun.Properties.EvaluationPeriods * noRun.Properties.Period, 8 * 86400);
    const rate = alarms.find((x) => x.Properties.AlarmName.endsWith('ErrorRate'));
    assert.ok(rate.Properties.Metrics.some((m: any) => m.Expression?.includes('100 * errors')), 'error rate is percentage math');
  });

  it('has the dashboard and a metric filter per log marker', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter');
    assert.equal(filters.length, 4);
    const body = JSON.stringify(Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard').Properties.DashboardBody);
    for (const w of ['ApiThrottles', 'RunCoverage', 'ChunksPending', 'EmailsSent', 'BucketSizeBytes', 'Delivery', 'S3 chunks cleaned up']) assert.ok(body.includes(w), w);
  });

  it('moves the alias through CodeDeploy with a pre-traffic dry run and alarm rollback', () => {
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: Match.objectLike({ Enabled: true, Alarms: Match.anyValue() }),
      AutoRollbackConfiguration: Match.objectLike({ Enabled: true, Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) }),
    });
    const alias = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Alias');
    assert.ok(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook, 'pre-traffic hook');
    const hook = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName?.startsWith('CodeDeployHook_'));
    assert.match(hook.Properties.Code.ZipFile, /dry_run: true/);
  });
});

describe('placeholder and context', () => {
  it('refuses a deploy of the placeholder and accepts a real zip', () => {
    assert.ok(t.toJSON().Rules?.RefusePlaceholderDeploy, 'placeholder template carries the refusing rule');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    const zip = path.join(dir, 'bootstrap.zip');
    fs.writeFileSync(zip, 'PK\u0005\u0006' + '\u0000'.repeat(18)); // an empty zip archive
    const real = synth({ bootstrapZip: zip, memoryMb: 2048, stage: 'dev' });
    assert.equal(real.template.toJSON().Rules?.RefusePlaceholderDeploy, undefined);
    real.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'stockpicks-dev', MemorySize: 2048 });
  });

  it('rejects bad context with the key named', () => {
    assert.throws(() => synth({ memoryMb: 'lots' }), /memoryMb=lots/);
    assert.throws(() => synth({ stage: 'Prod!' }), /stage=Prod!/);
  });
});

describe('cdk-nag and cfn-lint', () => {
  it('acknowledges every cdk-nag finding with a reason', () => {
    const report = JSON.parse(fs.readFileSync(path.join(base.outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    assert.equal(nag.conclusion, 'success');
    assert.equal(nag.violations.length, 0);
    for (const s of nag.suppressedViolations) assert.ok(s.reason && s.reason.length > 20, `${s.ruleName}: reason`);
  });

  it('passes cfn-lint with zero errors', (ctx) => {
    const lint = process.env.CFN_LINT ?? path.resolve(__dirname, '..', '..', '.venv', 'bin', 'cfn-lint');
    if (!fs.existsSync(lint)) return ctx.skip(`cfn-lint not installed at ${lint}`);
    const file = path.join(base.outdir, 'Stockpicks-prod.template.json');
    const res = spawnSync(lint, [file], { encoding: 'utf8' });
    // cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    assert.equal(res.status! & 2, 0, res.stdout + res.stderr);
  });
});

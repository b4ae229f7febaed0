// The stack, synthesized offline with the placeholder asset (no Rust build): every resource
// and property the issue names, least privilege, cdk-nag with reasons, and cfn-lint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { loadAlarms, loadLifecycle, loadContract } from '../lib/definitions';
import { DRY_RUN_OK, HOOK_DIR } from '../lib/stockpicks-stack';
import { PROD_EMAILS, synth } from './helpers';

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
      Environment: { Variables: Match.objectLike({ S3_BUCKET: Match.anyValue(), ALPHA_VANTAGE_SECRET_ARN: Match.anyValue(), SES_CONFIGURATION_SET: Match.anyValue(), EMAIL_SENDER: PROD_EMAILS.emailSender, METRICS_NAMESPACE: loadContract().namespace }) },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/stockpicks-prod', RetentionInDays: 90 });
  });

  // Issue 11, item 3. Lambda keeps 100 units of the account's concurrency unreserved
  // ("Lambda ... always reserves 100 units of concurrency for your functions that don't
  // explicitly reserve concurrency", https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html),
  // and new accounts start below that, so any reservation fails the first deploy there.
  it('reserves no concurrency unless asked to (reservedConcurrency context)', () => {
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'stockpicks-prod');
    assert.equal(fn.Properties.ReservedConcurrentExecutions, undefined);
    const opted = synth({ ...PROD_EMAILS, reservedConcurrency: 12 });
    opted.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'stockpicks-prod', ReservedConcurrentExecutions: 12 });
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
  // Issue 11, item 6: a secret without a value gets a generated random string (CDK default:
  // GenerateSecretString {}), which the function would take for a key. The empty sentinel is
  // what turns commentary off and makes a run fail at start before the key is set.
  it('creates the two secrets holding the empty sentinel {"api_key": ""}, retained', () => {
    const secrets = Object.values(resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    assert.equal(secrets.length, 2);
    for (const s of secrets) {
      assert.equal(s.Properties.GenerateSecretString, undefined, 'no generated value');
      assert.deepEqual(JSON.parse(s.Properties.SecretString), { api_key: '' });
      assert.equal(s.DeletionPolicy, 'Retain');
    }
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
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: [{ SubscriptionType: 'EMAIL', Address: PROD_EMAILS.alarmEmail }] })]),
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

  // Issue 11, item 16 (with the IAM simulation in iam-simulation.test.ts, which proves the
  // narrower grants still allow every request the code makes).
  it('invokes only the qualified versions and aliases of this function, never the bare name', () => {
    const invoke = statements().filter((st) => [].concat(st.Action).includes('lambda:InvokeFunction' as never));
    const text = JSON.stringify(invoke);
    assert.doesNotMatch(text, /function:stockpicks-prod"/);
    assert.match(text, /function:stockpicks-prod:\*"/);
  });

  it('limits S3 to runs/, reports/ and cache/ of this bucket, and deletes only chunk files', () => {
    const s3 = statements().filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('s3:')));
    const text = JSON.stringify(s3);
    for (const p of ['runs/*', 'reports/*', 'cache/*']) assert.ok(text.includes(p), p);
    const list = s3.find((st) => [].concat(st.Action).includes('s3:ListBucket' as never));
    assert.deepEqual(list.Condition.StringLike['s3:prefix'], ['runs/*', 'reports/*', 'cache/*']);
    const deletes = s3.filter((st) => [].concat(st.Action).some((a: string) => a === 's3:DeleteObject' || a === 's3:*' || a === 's3:Delete*'));
    assert.equal(deletes.length, 1);
    assert.match(JSON.stringify(deletes[0].Resource), /"\/runs\/\*\/chunks\/\*"\]\]\}$/);
  });

  it('limits SES to ses:SendEmail / GetEmailIdentity on the sender identity and the configuration set, ListContacts on the readers\' list', () => {
    const sesSt = statements().filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('ses:')));
    const text = JSON.stringify(sesSt);
    assert.match(text, /identity\/picks@stockpicks.test/);
    assert.match(text, /identity\/stockpicks.test/);
    assert.match(text, /configuration-set\/",\{"Ref":"MailConfigurationSet/);
    assert.deepEqual([...new Set(sesSt.flatMap((st) => [].concat(st.Action)))].sort(), ['ses:GetEmailIdentity', 'ses:ListContacts', 'ses:SendEmail']);
  });

  // AWSLambdaBasicExecutionRole allows logs:CreateLogGroup/CreateLogStream/PutLogEvents on
  // "Resource": "*" (AWS managed policy reference), i.e. every log group of the account.
  it('lets each Lambda role write only its own log group, with no managed policy', () => {
    const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'));
    assert.equal(roles.length, 2, 'function and hook');
    for (const [id, role] of roles) {
      assert.equal(role.Properties.ManagedPolicyArns, undefined, `${id}: managed policy`);
      const own = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === id));
      const logs = own.flatMap((r) => r.Properties.PolicyDocument.Statement).filter((st: any) => [].concat(st.Action).some((a: string) => a.startsWith('logs:')));
      assert.equal(logs.length, 1, id);
      assert.deepEqual(logs[0].Action, ['logs:CreateLogStream', 'logs:PutLogEvents']);
      const groupId = logs[0].Resource['Fn::GetAtt'][0];
      assert.equal(resources[groupId].Type, 'AWS::Logs::LogGroup', `${id}: logs on ${JSON.stringify(logs[0].Resource)}`);
    }
  });
});

function alarms(): any[] {
  return Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
}
function fnId(): string {
  return Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'stockpicks-prod')![0];
}

describe('alarms, dashboard, delivery', () => {
  it('creates every alarm of alarms/alarms.json with its threshold, on one SNS topic', () => {
    const defs = loadAlarms();
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    assert.equal(alarms.length, defs.length);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: PROD_EMAILS.alarmEmail });
    for (const d of defs) {
      const a = alarms.find((x) => x.Properties.AlarmName === `stockpicks-prod-${d.id}`);
      assert.ok(a, d.id);
      assert.equal(a.Properties.Threshold, d.threshold, d.id);
      assert.equal(a.Properties.ComparisonOperator, d.comparison, d.id);
      assert.equal(a.Properties.TreatMissingData, d.treatMissingData, d.id);
      assert.equal(a.Properties.AlarmActions.length, 1, d.id);
    }
    const rate = alarms.find((x) => x.Properties.AlarmName.endsWith('ErrorRate'));
    assert.ok(rate.Properties.Metrics.some((m: any) => m.Expression?.includes('100 * errors')), 'error rate is percentage math');
  });

  // Issue 11, item 1: "no run for 8 days" as 8 daily periods is an 8-day evaluation range,
  // which CloudWatch refuses (see checkEvaluationRange). The sweep's ReportAgeHours holds the
  // same meaning in an hourly alarm.
  it('alarms when the newest report is over 8 days old, or the sweep stops reporting its age', () => {
    const age = alarms().find((x) => x.Properties.AlarmName === 'stockpicks-prod-NoRecentReport');
    assert.equal(age.Properties.MetricName, 'ReportAgeHours');
    assert.equal(age.Properties.Threshold, 8 * 24);
    assert.equal(age.Properties.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(age.Properties.TreatMissingData, 'breaching');
    assert.ok(age.Properties.Period * age.Properties.EvaluationPeriods <= 7 * 86400);
  });

  // Issue 11, item 7. Lambda's dimensions: "By Resource (Resource) – View metrics for a
  // version or alias of a function. By Function Name (FunctionName) – View aggregate metrics
  // for all versions and aliases." (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)
  // Lanes and the aggregation run on the version, so an alarm on the alias misses them.
  it('watches AWS/Lambda metrics of the function as a whole (FunctionName only), in alarms and rollback', () => {
    const lambdaMetrics = alarms().flatMap((a) => [
      ...(a.Properties.Namespace ? [{ alarm: a.Properties.AlarmName, ns: a.Properties.Namespace, dims: a.Properties.Dimensions }] : []),
      ...(a.Properties.Metrics ?? []).filter((m: any) => m.MetricStat).map((m: any) => ({ alarm: a.Properties.AlarmName, ns: m.MetricStat.Metric.Namespace, dims: m.MetricStat.Metric.Dimensions })),
    ]).filter((m) => m.ns === 'AWS/Lambda');
    assert.ok(lambdaMetrics.length >= 3, 'ErrorRate (2) and FailedRun');
    for (const m of lambdaMetrics) assert.deepEqual(m.dims, [{ Name: 'FunctionName', Value: { Ref: fnId() } }], m.alarm);
    const group = Object.values(resources).find((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup');
    const rollback = group.Properties.AlarmConfiguration.Alarms.map((a: any) => a.Name.Ref);
    const names = rollback.map((id: string) => resources[id].Properties.AlarmName).sort();
    assert.deepEqual(names, ['stockpicks-prod-ErrorRate', 'stockpicks-prod-FailedRun']);
  });

  // Issue 11, item 9.
  it('alarms on failed e-mails and on e-mail locks without a mark', () => {
    const byName = Object.fromEntries(alarms().map((a) => [a.Properties.AlarmName, a.Properties]));
    assert.equal(byName['stockpicks-prod-EmailsFailed'].MetricName, 'EmailsFailed');
    assert.equal(byName['stockpicks-prod-EmailsUnconfirmed'].MetricName, 'EmailsUnconfirmed');
    for (const n of ['EmailsFailed', 'EmailsUnconfirmed']) {
      assert.equal(byName[`stockpicks-prod-${n}`].Threshold, 0);
      assert.equal(byName[`stockpicks-prod-${n}`].ComparisonOperator, 'GreaterThanThreshold');
    }
  });

  // Issue 11, item 5 (the alarm half; the KMS half is in iam-simulation.test.ts).
  it('alarms when EventBridge Scheduler fails to invoke, drops an invocation or cannot dead-letter it', () => {
    const a = alarms().find((x) => x.Properties.AlarmName === 'stockpicks-prod-SchedulerFailures');
    const stats = a.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
    assert.deepEqual(stats.map((m: any) => m.MetricName).sort(), ['InvocationDroppedCount', 'InvocationsFailedToBeSentToDeadLetterCount', 'TargetErrorCount']);
    for (const m of stats) {
      assert.equal(m.Namespace, 'AWS/Scheduler');
      assert.deepEqual(m.Dimensions, [{ Name: 'ScheduleGroup', Value: 'default' }]);
    }
    for (const s of Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule')) assert.equal(s.Properties.GroupName ?? 'default', 'default');
  });

  // One definition (contracts/contract.json) for what the function emits and what alarms watch.
  it('watches custom metrics with the contract\'s namespace and dimensions, valued with the function name', () => {
    const contract = loadContract();
    const custom = alarms().flatMap((a) => [
      ...(a.Properties.Namespace ? [{ ns: a.Properties.Namespace, name: a.Properties.MetricName, dims: a.Properties.Dimensions }] : []),
      ...(a.Properties.Metrics ?? []).filter((m: any) => m.MetricStat).map((m: any) => ({ ns: m.MetricStat.Metric.Namespace, name: m.MetricStat.Metric.MetricName, dims: m.MetricStat.Metric.Dimensions })),
    ]).filter((m) => !m.ns.startsWith('AWS/'));
    assert.ok(custom.length >= 8);
    for (const m of custom) {
      assert.equal(m.ns, contract.namespace);
      assert.ok(m.name in contract.metrics, m.name);
      assert.deepEqual(m.dims, contract.dimensions.map((d) => ({ Name: d, Value: 'stockpicks-prod' })), m.name);
    }
  });

  // Issue 11, item 4: enforceSSL gives the topic a policy that replaces SNS's default one.
  it('lets CloudWatch (from this account) publish to the alarm topic', () => {
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy');
    const allow = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Effect === 'Allow');
    assert.deepEqual(allow.Principal, { Service: 'cloudwatch.amazonaws.com' });
    assert.equal(allow.Action, 'sns:Publish');
    assert.deepEqual(allow.Condition, { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
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
    // Its own file as the asset, not inline code; the status that lets traffic shift is the contract's.
    assert.equal(hook.Properties.Code.ZipFile, undefined);
    assert.equal(hook.Properties.Handler, 'index.handler');
    // The asset is staged in the cloud assembly as asset.<hash>, the hash being its S3 key.
    const staged = path.join(base.outdir, `asset.${hook.Properties.Code.S3Key.replace(/\.zip$/, '')}`, 'index.js');
    assert.equal(fs.readFileSync(staged, 'utf8'), fs.readFileSync(path.join(HOOK_DIR, 'index.js'), 'utf8'));
    const expected = hook.Properties.Environment.Variables.EXPECTED_STATUS;
    assert.equal(expected, DRY_RUN_OK);
    assert.ok(expected in loadContract().statuses, 'a declared status');
    assert.ok(hook.Properties.Environment.Variables.TARGET_VERSION_ARN.Ref, 'the new version');
  });
});

describe('placeholder and context', () => {
  it('refuses a deploy of the placeholder and accepts a real zip', () => {
    assert.ok(t.toJSON().Rules?.RefusePlaceholderDeploy, 'placeholder template carries the refusing rule');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    const zip = path.join(dir, 'bootstrap.zip');
    fs.writeFileSync(zip, 'PK\u0005\u0006' + '\u0000'.repeat(18)); // an empty zip archive
    const real = synth({ ...PROD_EMAILS, bootstrapZip: zip, memoryMb: 2048, stage: 'dev' });
    assert.equal(real.template.toJSON().Rules?.RefusePlaceholderDeploy, undefined);
    real.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'stockpicks-dev', MemorySize: 2048 });
  });

  it('rejects bad context with the key named', () => {
    assert.throws(() => synth({ ...PROD_EMAILS, memoryMb: 'lots' }), /memoryMb=lots/);
    assert.throws(() => synth({ ...PROD_EMAILS, stage: 'Prod!' }), /stage=Prod!/);
  });

  // Issue 11, item 11: empty repository variables used to deploy prod with example.com.
  it('refuses to synth prod without real e-mail addresses; other stages fall back to placeholders', () => {
    assert.throws(() => synth({}), /emailSender=\(empty\): stage prod needs real e-mail addresses/);
    assert.throws(() => synth({ ...PROD_EMAILS, alarmEmail: 'ops@example.com' }), /alarmEmail=ops@example.com/);
    assert.throws(() => synth({ ...PROD_EMAILS, emailSender: 'picks@example.net' }), /emailSender=picks@example.net/);
    const dev = synth({ stage: 'dev' });
    dev.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'stockpicks-dev', Environment: { Variables: Match.objectLike({ EMAIL_SENDER: 'picks@example.com' }) } });
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

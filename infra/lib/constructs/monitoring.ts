// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AlarmDef, Contract, DashboardDef, MetricRef } from '../definitions';
import { AnalysisFunction } from './analysis-function';
import { Mail } from './mail';

export interface MonitoringProps {
  stage: string;
  /** Subscribed to the alarm topic. */
  alarmEmail: string;
  analysis: AnalysisFunction;
  bucket: s3.Bucket;
  mail: Mail;
  alarms: AlarmDef[];
  dashboard: DashboardDef;
  contract: Contract;
}

/** One SNS topic, the alarms of alarms/alarms.json, the dashboard of dashboards/dashboard.json. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const p = props;
    const { analysis: f, bucket, mail, alarms: alarmDefs, dashboard: dash, contract } = props;
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
        case 'reputation':
          // Account-level: SES publishes these without dimensions (definitions.ts, REPUTATION_METRICS).
          return new cloudwatch.Metric({ namespace: 'AWS/SES', metricName: r.name, ...base });
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

// The whole cloud footprint of stockpicks: one stack of small constructs (lib/constructs/,
// one per file, each with its Props), each named for what it holds. Least privilege throughout: no IAM statement has a `*` resource for
// Lambda, S3, SES or Secrets Manager.
import * as cdk from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AnalysisFunction } from './constructs/analysis-function';
import { ApiKeys } from './constructs/api-keys';
import { Delivery } from './constructs/delivery';
import { Mail } from './constructs/mail';
import { Monitoring } from './constructs/monitoring';
import { Schedules } from './constructs/schedules';
import { Storage } from './constructs/storage';
import { Subscribers } from './constructs/subscribers';
import { AlarmDef, Contract, DashboardDef, LifecycleRuleDef, loadAlarms, loadContract, loadDashboard, loadLifecycle, status } from './definitions';

export { HOOK_DIR } from './constructs/delivery';

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
  /**
   * The readers' SES contact list when it already exists in the account (SES allows one contact
   * list per account); unset, the stack creates `stockpicks-${stage}` (retained on deletion).
   */
  contactList?: string;
  /** The topic of the contact list readers subscribe to. */
  contactTopic: string;
  alarmEmail: string;
  monthlyBudgetUsd: number;
  rateLimitPerMin: number;
  /** Defaults to loadDefinitions(): the files in the repository. */
  definitions?: Definitions;
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
    const storage = new Storage(this, 'Storage', { stage: p.stage, rules: defs.lifecycle });
    this.bucket = storage.bucket;
    const keys = new ApiKeys(this, 'ApiKeys', { stage: p.stage });
    const mail = new Mail(this, 'Mail', { stage: p.stage, sender: p.emailSender });
    const subscribers = new Subscribers(this, 'Subscribers', { stage: p.stage, existingList: p.contactList, topic: p.contactTopic });
    this.analysis = new AnalysisFunction(this, 'Analysis', {
      stage: p.stage, bootstrapZip: p.bootstrapZip, architecture: p.architecture, memoryMb: p.memoryMb, timeoutSecs: p.timeoutSecs,
      reservedConcurrency: p.reservedConcurrency, emailSender: p.emailSender, rateLimitPerMin: p.rateLimitPerMin,
      bucket: storage.bucket, keys, mail, subscribers, contract,
    });
    this.schedules = new Schedules(this, 'Schedules', {
      stage: p.stage, weeklySchedule: p.weeklySchedule, sweepSchedule: p.sweepSchedule,
      alias: this.analysis.alias, deadLetters: this.analysis.deadLetters, deadLetterKey: this.analysis.deadLetterKey,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: p.stage, alarmEmail: p.alarmEmail, analysis: this.analysis, bucket: storage.bucket, mail,
      alarms: defs.alarms, dashboard: defs.dashboard, contract,
    });
    // A renamed alarm must fail synth, not silently drop out of CodeDeploy's rollback set.
    const rollbackAlarms = ROLLBACK_ALARMS.map((id) => {
      const a = this.monitoring.alarms[id];
      if (!a) throw new Error(`alarms/alarms.json: CodeDeploy rolls back on alarm ${id}, which is not defined`);
      return a;
    });
    new Delivery(this, 'Delivery', { stage: p.stage, analysis: this.analysis, rollbackAlarms, expectedStatus });
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
    // What `stockpicks subscribers add ADDRESS` adds contacts to.
    new cdk.CfnOutput(this, 'ContactListName', { value: subscribers.listName });
    new cdk.CfnOutput(this, 'ContactTopicName', { value: subscribers.topicName });
    new cdk.CfnOutput(this, 'AlphaVantageSecretArn', { value: keys.alphaVantage.secretArn });
    new cdk.CfnOutput(this, 'OpenAISecretArn', { value: keys.openai.secretArn });
    // The rollback workflow re-applies the async settings (and this destination) to its target.
    new cdk.CfnOutput(this, 'DeadLetterQueueArn', { value: this.analysis.deadLetters.queueArn });
  }
}

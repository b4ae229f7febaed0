// Builds the app from context, so the same code serves tests, synth and deploy.
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Definitions, StockpicksStack } from '../lib/stockpicks-stack';

export const PLACEHOLDER = path.resolve(__dirname, '..', 'placeholder');

function ctx(app: App, key: string, fallback: string): string {
  const v = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? fallback : String(v);
}

function num(app: App, key: string, fallback: number, min: number, max: number): number {
  const raw = ctx(app, key, String(fallback));
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`context ${key}=${raw}: must be a number from ${min} to ${max}`);
  return v;
}

/** The placeholder domains (the defaults below, and the docs): an address there receives nothing. */
const PLACEHOLDER_DOMAIN = /@(.*\.)?example\.(com|net|org)$/i;

/**
 * An e-mail context value. Outside prod a placeholder keeps synth working; prod refuses to
 * synth without a real value, so an empty repository variable cannot deploy a stack that
 * mails from an unverified identity to nobody.
 */
function address(app: App, stage: string, key: string, fallback: string): string {
  const v = ctx(app, key, '');
  if (stage === 'prod') {
    const all = v.split(',').map((x) => x.trim());
    if (!v || all.some((x) => !x.includes('@') || PLACEHOLDER_DOMAIN.test(x))) {
      throw new Error(`context ${key}=${v || '(empty)'}: stage prod needs real e-mail addresses (-c ${key}=...; the deploy workflow passes vars.${key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()})`);
    }
  }
  return v || fallback;
}

/**
 * Readers left the stack in issue 15: they are contacts of an SES contact list, added by the
 * operator. A leftover `-c emailRecipients=...` (an old script, a repository variable) must not
 * be silently ignored: it fails synth and says where readers went.
 */
export const NO_RECIPIENTS = 'context emailRecipients: readers are no longer part of the stack (issue 15). '
  + 'They are contacts of the SES contact list (-c contactList, default stockpicks-STAGE, topic -c contactTopic, default weekly-picks): '
  + 'add each with `stockpicks subscribers add ADDRESS`, and drop -c emailRecipients (and the EMAIL_RECIPIENTS repository variable).';

/** `definitions` replaces the repository's JSON definitions (tests only). */
export function buildApp(app: App, definitions?: Definitions): StockpicksStack {
  // Access logs are granted by a bucket policy, not the legacy LogDeliveryWrite ACL.
  app.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
  if (app.node.tryGetContext('emailRecipients') !== undefined) throw new Error(NO_RECIPIENTS);
  const stage = ctx(app, 'stage', 'prod');
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) throw new Error(`context stage=${stage}: lower-case letters, digits and '-', at most 16`);
  const zip = ctx(app, 'bootstrapZip', '');
  const arch = ctx(app, 'architecture', 'arm64');
  if (arch !== 'arm64' && arch !== 'x86_64') throw new Error(`context architecture=${arch}: arm64 or x86_64`);
  const stack = new StockpicksStack(app, `Stockpicks-${stage}`, {
    stage,
    bootstrapZip: zip ? path.resolve(zip) : PLACEHOLDER,
    isPlaceholder: !zip,
    architecture: arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
    memoryMb: num(app, 'memoryMb', 1024, 128, 10240),
    timeoutSecs: num(app, 'timeoutSecs', 900, 60, 900),
    // Opt-in (README, deploy step 0): reserving any amount fails on an account whose
    // concurrency limit is under 100 + that amount.
    reservedConcurrency: ctx(app, 'reservedConcurrency', '') === '' ? undefined : num(app, 'reservedConcurrency', 0, 1, 1000),
    weeklySchedule: ctx(app, 'weeklySchedule', 'cron(0 13 ? * MON *)'),
    sweepSchedule: ctx(app, 'sweepSchedule', 'rate(30 minutes)'),
    emailSender: address(app, stage, 'emailSender', 'picks@example.com'),
    // An existing list of the account (SES allows one per account), or unset: the stack creates stockpicks-STAGE.
    contactList: ctx(app, 'contactList', '') || undefined,
    contactTopic: ctx(app, 'contactTopic', 'weekly-picks'),
    alarmEmail: address(app, stage, 'alarmEmail', 'ops@example.com'),
    monthlyBudgetUsd: num(app, 'monthlyBudgetUsd', 10, 1, 100000),
    rateLimitPerMin: num(app, 'rateLimitPerMin', 75, 1, 100000),
    description: `stockpicks (${stage}): weekly S&P 500 scoring on Lambda`,
    definitions,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

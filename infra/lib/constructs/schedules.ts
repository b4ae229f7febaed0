// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface SchedulesProps {
  stage: string;
  /** EventBridge Scheduler expressions (UTC) of the weekly run and of the sweep. */
  weeklySchedule: string;
  sweepSchedule: string;
  /** The target: the alias `live`, never a version. */
  alias: lambda.Alias;
  deadLetters: sqs.Queue;
  deadLetterKey: kms.IKey;
}

/**
 * The weekly run and the periodic sweep, both on the alias, with retries and a DLQ. Scheduler
 * writes the dead-letter queue with the schedule's own role, and the queue is encrypted with
 * a customer-managed key, so that role needs the key too: "The producer must have the
 * kms:GenerateDataKey and kms:Decrypt permissions for the customer master key"
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
 */
export class Schedules extends Construct {
  readonly role: iam.Role;
  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const p = props;
    const { alias, deadLetters: dlq, deadLetterKey: dlqKey } = props;
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

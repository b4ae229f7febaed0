// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LifecycleRuleDef } from '../definitions';

/** What the bucket is made from. */
export interface StorageProps {
  /** Names the access-log prefix. */
  stage: string;
  /** The lifecycle rules, their prefixes resolved from the contract (loadLifecycle). */
  rules: LifecycleRuleDef[];
}

/** The bucket for the contract's prefixes, with the lifecycle from lifecycle/rules.json. */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { stage, rules } = props;
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

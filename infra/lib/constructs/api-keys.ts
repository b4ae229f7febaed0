// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cdk from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ApiKeysProps {
  /** The secrets are named stockpicks/<stage>/...: the README's put-secret-value steps use these names. */
  stage: string;
}

/**
 * The two API keys, created holding the empty sentinel `{"api_key": ""}`: never a generated
 * value (CDK's default is a random 32-character string, which the function would take for a
 * key). With the sentinel, commentary stays off until an OpenAI key is set, and a run before
 * the Alpha Vantage key is set fails at start, loudly, instead of mailing an empty report.
 * The real values are set after deploy (README, step 2), never in the template. RETAIN:
 * CloudFormation deletes a secret with no recovery window.
 */
export class ApiKeys extends Construct {
  readonly alphaVantage: secretsmanager.Secret;
  readonly openai: secretsmanager.Secret;
  constructor(scope: Construct, id: string, props: ApiKeysProps) {
    super(scope, id);
    const { stage } = props;
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

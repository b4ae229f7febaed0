// cdk.json carries every feature flag aws-cdk-lib recommends, at the recommended value, so
// an upgrade that adds flags fails here until they are set and the template change they
// cause has been looked at (diff `cdk synth` before and after; a flag that changes a
// bucket's, secret's, log group's or key's logical id or a replacing property would replace
// stateful resources of the deployed stack).
//
// What the flags of aws-cdk-lib 2.276.0 changed (issue 14), none of it stateful:
// - @aws-cdk/aws-lambda:recognizeLayerVersion changes the hash in the function version's
//   logical id, so the first deploy publishes a new version (the old one is retained) and
//   CodeDeploy moves `live` to it through the pre-traffic dry run, code unchanged;
// - @aws-cdk/aws-iam:minimizePolicies sorts actions and merges statements (the hook's two
//   PutLifecycleEventHookExecutionStatus grants become one); KMS key policies only reorder
//   actions. Bucket, secrets, log groups, keys and queue keep their logical ids and names.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { CDK_JSON_CONTEXT, synth } from './helpers';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));

describe('feature flags', () => {
  it('cdk.json sets every flag the installed aws-cdk-lib recommends, to the recommended value', () => {
    const recommended = CURRENTLY_RECOMMENDED_FLAGS as Record<string, unknown>;
    assert.ok(Object.keys(recommended).length > 50, 'the list of the installed aws-cdk-lib');
    const wrong = Object.entries(recommended)
      .filter(([k, v]) => JSON.stringify(cdkJson.context[k]) !== JSON.stringify(v))
      .map(([k, v]) => `${k}: ${JSON.stringify(cdkJson.context[k])}, recommended ${JSON.stringify(v)}`);
    assert.deepEqual(wrong, [], `cdk.json context differs from aws-cdk-lib's recommendations:\n${wrong.join('\n')}`);
  });

  it('sets no flag aws-cdk-lib does not know (a typo would be ignored silently)', () => {
    const { FLAGS } = require('aws-cdk-lib/cx-api') as { FLAGS: Record<string, unknown> };
    const unknown = Object.keys(cdkJson.context).filter((k) => k.startsWith('@aws-cdk') && !(k in FLAGS));
    assert.deepEqual(unknown, []);
  });

  // The tests' synth must see the flags too, or they would test another template than the CLI makes.
  it('reaches the tests\' synth', () => {
    assert.equal(CDK_JSON_CONTEXT['@aws-cdk/aws-iam:minimizePolicies'], true);
    const { stack, template } = synth();
    assert.equal(stack.node.tryGetContext('@aws-cdk/aws-iam:minimizePolicies'), true);
    // minimizePolicies merges the hook's two grants of this one action into one statement.
    const hookPolicy = Object.values(template.toJSON().Resources as Record<string, any>).filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Action === 'codedeploy:PutLifecycleEventHookExecutionStatus');
    assert.equal(hookPolicy.length, 1);
  });
});

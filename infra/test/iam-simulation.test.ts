// IAM simulation of the synthesized template with a real policy evaluator
// (@cloud-copilot/iam-simulate evaluates identity, resource and KMS key policies the way IAM
// does). The requests are contracts/aws-requests.json: what the function really asks of AWS
// (recorded by the end-to-end tests against moto, tests/e2e/aws_recorder.py, which fail when
// the code makes a request the list lacks), plus the scheduler's, the hook's and CloudWatch's.
// Every request must be Allowed; every probe must be denied. moto and cfn-lint evaluate none
// of these policies, so this is the only offline check that the deployed stack can do its job.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ENV, PROD_EMAILS, resolver, synth } from './helpers';

const CONTRACT = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'contracts', 'aws-requests.json'), 'utf8'));
const { template } = synth();
const tpl = template.toJSON() as any;
const res: Record<string, any> = tpl.Resources;
const { resolve, arnOf, name } = resolver(tpl);

const idOf = (type: string, pred: (r: any) => boolean = () => true): string => {
  const hits = Object.entries(res).filter(([, r]) => r.Type === type && pred(r));
  assert.equal(hits.length, 1, `one ${type}`);
  return hits[0][0];
};
const fnId = idOf('AWS::Lambda::Function', (r) => r.Properties.FunctionName === 'stockpicks-prod');
const hookId = idOf('AWS::Lambda::Function', (r) => r.Properties.FunctionName?.startsWith('CodeDeployHook_'));
const roleOfFn = (id: string) => res[id].Properties.Role['Fn::GetAtt'][0];
const schedulerRoleId = (() => {
  const arns = Object.values(res).filter((r) => r.Type === 'AWS::Scheduler::Schedule').map((r) => r.Properties.Target.RoleArn['Fn::GetAtt'][0]);
  assert.equal(new Set(arns).size, 1, 'both schedules use one role');
  return arns[0];
})();
const bucketId = idOf('AWS::S3::Bucket', (r) => r.Properties.LifecycleConfiguration?.Rules?.length > 1);
const queueId = idOf('AWS::SQS::Queue');
const topicId = idOf('AWS::SNS::Topic');
const versionId = idOf('AWS::Lambda::Version');
const sender = PROD_EMAILS.emailSender;

const names: Record<string, string> = {
  region: ENV.region,
  account: ENV.account,
  bucket: name(bucketId),
  function: name(fnId),
  sender,
  senderDomain: sender.split('@')[1],
  configurationSet: name(idOf('AWS::SES::ConfigurationSet')),
  // The readers' list the stack creates (issue 15); its name is what SES_CONTACT_LIST holds.
  contactList: resolve(res[fnId].Properties.Environment.Variables.SES_CONTACT_LIST),
  alphaVantageSecret: arnOf(idOf('AWS::SecretsManager::Secret', (r) => r.Properties.Name.includes('alpha-vantage'))),
  openaiSecret: arnOf(idOf('AWS::SecretsManager::Secret', (r) => r.Properties.Name.includes('openai'))),
  logGroup: name(res[fnId].Properties.LoggingConfig.LogGroup.Ref),
  hookLogGroup: name(res[hookId].Properties.LoggingConfig.LogGroup.Ref),
  deadLetterQueue: arnOf(queueId),
  deadLetterKey: resolve(res[queueId].Properties.KmsMasterKeyId),
  topic: arnOf(topicId),
  topicKey: resolve(res[topicId].Properties.KmsMasterKeyId),
  currentVersion: arnOf(versionId),
  application: name(idOf('AWS::CodeDeploy::Application')),
  deploymentGroup: name(idOf('AWS::CodeDeploy::DeploymentGroup')),
};
assert.equal(names.contactList, name(idOf('AWS::SES::ContactList')), 'the function lists the list the stack creates');
/** Sample values of what varies per run: any run id, date or number must be allowed alike. */
const samples: Record<string, string> = {
  run: 'sched-20261130T1300Z', date: '2026-11-30', n: '3', symbol: 'BRK-B', record: '20261130T131502_sched-20261130T1300Z',
  version: '7', stream: '2026/11/30/[7]0123456789abcdef', shard: 'B',
  // A reader's stable id (16 hex digits of a hash of the address): the name of their e-mail marks.
  reader: '9f86d081884c7d65',
};
const fill = (s: string) =>
  s.replace(/\$\{(\w+)\}/g, (_, k) => { assert.ok(k in names, `unknown name \${${k}}`); return names[k]; })
    .replace(/\{(\w+)\}/g, (_, k) => { assert.ok(k in samples, `unknown placeholder {${k}}`); return samples[k]; });

/** Identity policies of a role: its inline policies and every AWS::IAM::Policy attached to it. */
function identityPolicies(roleId: string) {
  const role = res[roleId];
  assert.equal(role.Properties.ManagedPolicyArns, undefined, `${roleId}: managed policies are not simulated`);
  const inline = (role.Properties.Policies ?? []).map((p: any) => ({ name: p.PolicyName, policy: resolve(p.PolicyDocument) }));
  const attached = Object.entries(res)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .map(([id, r]) => ({ name: id, policy: resolve(r.Properties.PolicyDocument) }));
  return [...inline, ...attached];
}

/** The resource-based policy AWS evaluates with a request on this resource, if any. */
function resourcePolicy(resource: string): any {
  const policyOf = (type: string, prop: string, target: string) => {
    const docs = Object.values(res).filter((r) => r.Type === type && JSON.stringify(resolve(r.Properties[prop])).includes(target));
    return docs.length ? resolve(docs[0].Properties.PolicyDocument) : undefined;
  };
  if (resource.startsWith('arn:aws:s3:::')) {
    const bucket = resource.slice('arn:aws:s3:::'.length).split('/')[0];
    return Object.values(res).filter((r) => r.Type === 'AWS::S3::BucketPolicy' && resolve(r.Properties.Bucket) === bucket).map((r) => resolve(r.Properties.PolicyDocument))[0];
  }
  if (resource.startsWith('arn:aws:kms:')) {
    const key = Object.entries(res).find(([id, r]) => r.Type === 'AWS::KMS::Key' && arnOf(id) === resource);
    assert.ok(key, `no key ${resource}`);
    return resolve(key[1].Properties.KeyPolicy);
  }
  if (resource.startsWith('arn:aws:sns:')) return policyOf('AWS::SNS::TopicPolicy', 'Topics', resource);
  if (resource.startsWith('arn:aws:sqs:')) return policyOf('AWS::SQS::QueuePolicy', 'Queues', `/${resource.split(':').pop()}`);
  return undefined;
}

const principals: Record<string, { principal: string; policies: any[] }> = {
  function: { principal: `arn:aws:iam::${ENV.account}:role/${name(roleOfFn(fnId))}`, policies: identityPolicies(roleOfFn(fnId)) },
  scheduler: { principal: `arn:aws:iam::${ENV.account}:role/${name(schedulerRoleId)}`, policies: identityPolicies(schedulerRoleId) },
  hook: { principal: `arn:aws:iam::${ENV.account}:role/${name(roleOfFn(hookId))}`, policies: identityPolicies(roleOfFn(hookId)) },
  'cloudwatch.amazonaws.com': { principal: 'cloudwatch.amazonaws.com', policies: [] },
};

async function simulate(who: string, req: { action: string; resource: string; context?: Record<string, string> }) {
  const p = principals[who];
  assert.ok(p, `unknown principal ${who}`);
  const resource = fill(req.resource);
  const contextVariables: Record<string, string> = { 'aws:SecureTransport': 'true' };
  for (const [k, v] of Object.entries(req.context ?? {})) contextVariables[k] = fill(v);
  const out = await runSimulation({
    request: { principal: p.principal, action: req.action, resource: { resource, accountId: resource.startsWith('arn:aws:s3:::') ? ENV.account : resource.split(':')[4] || ENV.account }, contextVariables },
    identityPolicies: p.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: resourcePolicy(resource),
  }, {});
  if (out.resultType === 'error') throw new Error(`${who} ${req.action} ${resource}: ${JSON.stringify(out.errors)}`);
  return { result: out.overallResult, resource };
}

const requests = Object.entries(CONTRACT.principals as Record<string, { requests: any[] }>).flatMap(([who, p]) => p.requests.map((r) => ({ who, ...r })));

describe('IAM simulation of the synthesized template', () => {
  it('allows every request of contracts/aws-requests.json', async () => {
    const denied: string[] = [];
    for (const r of requests) {
      const { result, resource } = await simulate(r.who, r);
      if (result !== 'Allowed') denied.push(`${r.who}: ${r.action} ${resource} ${JSON.stringify(r.context ?? {})} -> ${result}`);
    }
    assert.deepEqual(denied, [], `requests the template does not allow:\n${denied.join('\n')}`);
    assert.ok(requests.length >= 40, `${requests.length} requests`);
    console.log(`# IAM simulation: ${requests.length} requests allowed`);
  });

  it('denies every probe', async () => {
    const allowed: string[] = [];
    for (const p of CONTRACT.probes) {
      const { result, resource } = await simulate(p.principal, p);
      if (result === 'Allowed') allowed.push(`${p.principal}: ${p.action} ${resource} (${p.why})`);
    }
    assert.deepEqual(allowed, [], `probes the template allows:\n${allowed.join('\n')}`);
    console.log(`# IAM simulation: ${CONTRACT.probes.length} probes denied`);
  });

  // The evaluator must itself be able to say no for the checks above to mean anything: the
  // template of a68ad1a let no one publish to the topic and gave the scheduler no KMS grant.
  it('finds the defects of a68ad1a when their fixes are removed', async () => {
    const topicPolicy = Object.values(res).find((r) => r.Type === 'AWS::SNS::TopicPolicy');
    const saved = topicPolicy.Properties.PolicyDocument.Statement;
    topicPolicy.Properties.PolicyDocument.Statement = saved.filter((s: any) => s.Effect === 'Deny');
    try {
      const { result } = await simulate('cloudwatch.amazonaws.com', { action: 'sns:Publish', resource: '${topic}', context: { 'aws:SourceAccount': '${account}' } });
      assert.notEqual(result, 'Allowed', 'publish without the CloudWatch statement');
    } finally {
      topicPolicy.Properties.PolicyDocument.Statement = saved;
    }
    const withoutKms = principals.scheduler.policies.map((p) => ({ ...p, policy: { ...p.policy, Statement: p.policy.Statement.filter((s: any) => ![].concat(s.Action).some((a: string) => a.startsWith('kms:'))) } }));
    const kept = principals.scheduler.policies;
    principals.scheduler.policies = withoutKms;
    try {
      const { result } = await simulate('scheduler', { action: 'kms:GenerateDataKey', resource: '${deadLetterKey}' });
      assert.notEqual(result, 'Allowed', 'scheduler without the key grant');
    } finally {
      principals.scheduler.policies = kept;
    }
  });
});

// The GitHub workflows: change control (deploy only after the suite passed on the commit),
// the split between the read-only diff role and the deploy role, pinned actions, and the
// rollback script run against a fake `aws` that plays CodeDeploy's history.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { synth } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const WF = path.join(ROOT, '.github', 'workflows');
const text = (f: string) => fs.readFileSync(path.join(WF, f), 'utf8');
const wf = (f: string) => parse(text(f));
const deploy = wf('deploy.yml');
const ci = wf('ci.yml');
const rollback = wf('rollback.yml');

describe('deploy workflow', () => {
  // Issue 11, item 14.
  it('deploys only after the whole test suite passed on the same commit', () => {
    assert.deepEqual([].concat(deploy.jobs.deploy.needs).sort(), ['build', 'test']);
    assert.equal(deploy.jobs.test.uses, './.github/workflows/ci.yml');
    assert.ok('workflow_call' in ci.on, 'ci.yml can be called');
    assert.match(ci.jobs.test.steps.at(-1).run, /bash tests\/run_all\.sh/);
    assert.match(deploy.jobs.deploy.if, /github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    assert.doesNotMatch(deploy.jobs.test.if ?? '', /pull_request/, 'the test job runs for the pushes that deploy');
  });

  // Issue 11, item 15.
  it('diffs pull requests with a separate read-only role, never for forks, with the deploy context, addresses masked', () => {
    const diff = deploy.jobs.diff;
    assert.match(diff.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    const creds = diff.steps.find((s: any) => String(s.uses).startsWith('aws-actions/configure-aws-credentials'));
    assert.equal(creds.with['role-to-assume'], '${{ vars.AWS_DIFF_ROLE_ARN }}');
    const run = diff.steps.find((s: any) => String(s.run).includes('cdk diff'));
    const deployRun = deploy.jobs.deploy.steps.find((s: any) => String(s.run).includes('cdk deploy'));
    const ctx = (s: string) => (s.match(/-c [a-zA-Z]+=\S+/g) ?? []).sort();
    assert.deepEqual(ctx(run.run), ctx(deployRun.run), 'same -c context as the deploy');
    assert.deepEqual(run.env, deployRun.env, 'from the same variables');
    assert.match(run.run, /\| sed -E 's\/\[A-Za-z0-9\._%\+-\]\+@/, 'addresses masked before the summary');
    assert.match(run.run, /--no-change-set/, 'no change set: the read-only role cannot create one');
    // The masking itself.
    const masked = spawnSync('bash', ['-c', `echo 'Endpoint: ann@readers.test, "ops@stockpicks.test"' | ${run.run.match(/sed -E '[^']+'/)[0]}`], { encoding: 'utf8' }).stdout;
    assert.equal(masked.trim(), 'Endpoint: <address>, "<address>"');
  });

  it('lets only the jobs that talk to AWS mint an OIDC token', () => {
    for (const [f, doc] of [['deploy.yml', deploy], ['ci.yml', ci], ['rollback.yml', rollback]] as const) {
      assert.notEqual(doc.permissions?.['id-token'], 'write', `${f}: id-token at workflow level`);
      for (const [name, job] of Object.entries(doc.jobs as Record<string, any>)) {
        const wants = ['deploy.yml:diff', 'deploy.yml:deploy', 'rollback.yml:rollback'].includes(`${f}:${name}`);
        assert.equal(job.permissions?.['id-token'] === 'write', wants, `${f}:${name}`);
      }
    }
  });

  it('refuses to deploy with an empty repository variable', () => {
    const guard = deploy.jobs.deploy.steps.find((s: any) => String(s.name).startsWith('Refuse empty'));
    const env = { ...process.env, ...guard.env, EMAIL_SENDER: 'picks@stockpicks.test', ALARM_EMAIL: '' };
    const out = spawnSync('bash', ['-e', '-c', guard.run], { encoding: 'utf8', env });
    assert.notEqual(out.status, 0);
    assert.match(out.stdout, /ALARM_EMAIL is empty/);
    const ok = spawnSync('bash', ['-e', '-c', guard.run], { encoding: 'utf8', env: { ...env, ALARM_EMAIL: 'ops@stockpicks.test', CONTACT_LIST: '', CONTACT_TOPIC: '' } });
    assert.equal(ok.status, 0, ok.stdout);
  });

  // Issue 15: readers are contacts of the SES contact list, not a repository variable; the
  // stack refuses -c emailRecipients, so a workflow still passing it could not deploy.
  it('passes no reader addresses, and the optional contact list and topic from repository variables', () => {
    for (const f of fs.readdirSync(WF)) assert.doesNotMatch(text(f), /emailRecipients|EMAIL_RECIPIENTS?\b/, f);
    for (const job of [deploy.jobs.diff, deploy.jobs.deploy]) {
      const step = job.steps.find((s: any) => /cdk (diff|deploy)/.test(String(s.run)));
      assert.match(step.run, /-c contactList="\$\{CONTACT_LIST\}"/);
      assert.match(step.run, /-c contactTopic="\$\{CONTACT_TOPIC\}"/);
      assert.equal(step.env.CONTACT_LIST, '${{ vars.CONTACT_LIST }}');
      assert.equal(step.env.CONTACT_TOPIC, '${{ vars.CONTACT_TOPIC }}');
    }
    // Empty variables mean the defaults (the stack creates stockpicks-prod with topic weekly-picks).
    const t = synth({ emailSender: 'picks@stockpicks.test', alarmEmail: 'ops@stockpicks.test', contactList: '', contactTopic: '' }).template;
    const lists = Object.values(t.toJSON().Resources as Record<string, any>).filter((r) => r.Type === 'AWS::SES::ContactList');
    assert.equal(lists.length, 1);
    assert.equal(lists[0].Properties.ContactListName, 'stockpicks-prod');
    assert.deepEqual(lists[0].Properties.Topics.map((x: any) => x.TopicName), ['weekly-picks']);
  });
});

// Issue 11, item 17.
describe('actions', () => {
  it('are pinned by full commit SHA with the tag in a comment, and never persist credentials', () => {
    for (const f of fs.readdirSync(WF)) {
      for (const line of text(f).split('\n').filter((l) => /^\s*(- )?uses:/.test(l))) {
        if (/uses: \.\//.test(line)) continue;
        assert.match(line, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # \S+/, `${f}: ${line.trim()}`);
      }
      const doc = wf(f);
      for (const job of Object.values(doc.jobs as Record<string, any>)) {
        for (const s of job.steps ?? []) {
          if (String(s.uses).startsWith('actions/checkout@')) assert.equal(s.with?.['persist-credentials'], false, `${f}: checkout`);
          if (String(s.uses).startsWith('dtolnay/rust-toolchain@')) assert.doesNotMatch(text(f), /rust-toolchain@stable/);
          if (String(s.uses).startsWith('actions/setup-node@')) assert.match(s.with['node-version'], /^\d+\.\d+\.\d+$/);
          if (String(s.uses).startsWith('actions/setup-python@')) assert.match(s.with['python-version'], /^\d+\.\d+\.\d+$/);
        }
      }
    }
    assert.match(text('deploy.yml'), /cargo lambda build --locked /);
  });
});

// Issue 14, item 7: the CDK app runs on a supported Node in CI and deploys. Node 20 reached
// end of life on 2026-04-30 (https://nodejs.org/en/about/previous-releases); 22 and 24 are
// the LTS lines. The development machines have Node 20, so engines must still admit it.
describe('node', () => {
  const SUPPORTED = [22, 24];
  it('sets up Node 22 or 24 in every job that sets up Node, and the CDK jobs do', () => {
    const seen: string[] = [];
    for (const f of fs.readdirSync(WF)) {
      for (const [name, job] of Object.entries(wf(f).jobs as Record<string, any>)) {
        for (const s of job.steps ?? []) {
          if (!String(s.uses).startsWith('actions/setup-node@')) continue;
          const major = Number(String(s.with['node-version']).split('.')[0]);
          assert.ok(SUPPORTED.includes(major), `${f}:${name}: node-version ${s.with['node-version']}`);
          seen.push(`${f}:${name}`);
        }
      }
    }
    for (const job of ['ci.yml:test', 'deploy.yml:diff', 'deploy.yml:deploy']) assert.ok(seen.includes(job), `${job} sets up Node`);
  });

  it('keeps infra installable on Node 20 and on the workflows\' Node', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'package.json'), 'utf8'));
    const min = pkg.engines.node.match(/^>=\s*(\d+)(\.\d+)*$/);
    assert.ok(min, `engines.node ${pkg.engines.node} is a lower bound`);
    assert.ok(Number(min[1]) <= 20, `engines.node ${pkg.engines.node} excludes Node 20`);
    assert.ok(Number(process.versions.node.split('.')[0]) >= Number(min[1]), 'this Node');
  });
});

// Issue 11, item 12.
describe('rollback', () => {
  it('shares the deploy job\'s concurrency group', () => {
    const group = rollback.jobs.rollback.concurrency.group.replace('${{ inputs.stage }}', rollback.on.workflow_dispatch.inputs.stage.default);
    assert.equal(group, deploy.jobs.deploy.concurrency.group);
    assert.equal(rollback.jobs.rollback.concurrency['cancel-in-progress'], false);
  });

  /** Runs rollback.sh with a fake `aws` on PATH; returns its exit status, output and the aws calls. */
  function runRollback(opts: { inProgress?: string; current: string; deployments: { id: string; created: string; from: string; to: string }[]; wanted?: string }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollback-'));
    const calls = path.join(dir, 'calls.log');
    const history = Object.fromEntries(opts.deployments.map((d) => [d.id, JSON.stringify({ deploymentInfo: { deploymentId: d.id, createTime: d.created, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({ version: 0.0, Resources: [{ AnalysisFunction: { Type: 'AWS::Lambda::Function', Properties: { Name: 'stockpicks-prod', Alias: 'live', CurrentVersion: d.from, TargetVersion: d.to } } }] }) } } } })]));
    fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(history));
    fs.writeFileSync(path.join(dir, 'aws'), `#!/usr/bin/env bash
echo "$*" >> ${JSON.stringify(calls)}
case "$1 $2" in
  "deploy list-deployments")
    if [[ "$*" == *InProgress* ]]; then echo ${JSON.stringify(opts.inProgress ?? '')}; else printf '%s\\t' ${opts.deployments.map((d) => d.id).join(' ')}; echo; fi ;;
  "deploy get-deployment")
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' ${JSON.stringify(path.join(dir, 'history.json'))} "$4" ;;
  "lambda get-alias") echo ${JSON.stringify(opts.current)} ;;
  "cloudformation describe-stacks") echo arn:aws:sqs:us-east-1:111122223333:stockpicks-prod-dead-letters ;;
  *) echo '{}' ;;
esac
`, { mode: 0o755 });
    const out = spawnSync('bash', [path.join(ROOT, '.github', 'scripts', 'rollback.sh')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FUNCTION: 'stockpicks-prod', APPLICATION: 'stockpicks-prod', GROUP: 'stockpicks-prod-live', STACK: 'Stockpicks-prod', WANTED: opts.wanted ?? '' },
    });
    const log = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
    return { status: out.status, stdout: out.stdout, stderr: out.stderr, calls: log };
  }

  // v5 served; v6's pre-traffic dry run failed (not a succeeded deployment, but published and
  // retained); v7 is live. The old workflow took "the largest version below the current": v6.
  const history = [
    { id: 'd-1', created: '2026-11-02T10:00:00Z', from: '4', to: '5' },
    { id: 'd-3', created: '2026-11-20T10:00:00Z', from: '5', to: '7' },
  ];

  it('moves live to the version that served before the current one, per CodeDeploy history', () => {
    const r = runRollback({ current: '7', deployments: history });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /live: 7 -> 5/);
    const update = r.calls.find((c) => c.startsWith('lambda update-alias'));
    assert.match(update!, /--function-version 5/);
  });

  it('re-applies the stack\'s async-invoke settings to the target before moving live', () => {
    const r = runRollback({ current: '7', deployments: history });
    const putAt = r.calls.findIndex((c) => c.startsWith('lambda put-function-event-invoke-config'));
    const moveAt = r.calls.findIndex((c) => c.startsWith('lambda update-alias'));
    assert.ok(putAt >= 0 && putAt < moveAt, r.calls.join('\n'));
    const put = r.calls[putAt];
    assert.match(put, /--qualifier 5 /);
    assert.match(put, /"Destination":"arn:aws:sqs:us-east-1:111122223333:stockpicks-prod-dead-letters"/);
    // The same values as the stack's EventInvokeConfig of the version.
    const res = synth().template.toJSON().Resources as Record<string, any>;
    const cfg = Object.values(res).find((x) => x.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(x.Properties.Qualifier).includes('Version'));
    assert.match(put, new RegExp(`--maximum-retry-attempts ${cfg.Properties.MaximumRetryAttempts} `));
    assert.match(put, new RegExp(`--maximum-event-age-in-seconds ${cfg.Properties.MaximumEventAgeInSeconds} `));
  });

  it('refuses while a CodeDeploy deployment is in progress, and without a history to go by', () => {
    const busy = runRollback({ current: '7', deployments: history, inProgress: 'd-4' });
    assert.notEqual(busy.status, 0);
    assert.match(busy.stderr, /deployment\(s\) in progress: d-4/);
    assert.ok(!busy.calls.some((c) => c.startsWith('lambda update-alias')));
    const lost = runRollback({ current: '9', deployments: history });
    assert.notEqual(lost.status, 0);
    assert.match(lost.stderr, /no succeeded CodeDeploy deployment moved live to version 9/);
    const given = runRollback({ current: '9', deployments: history, wanted: '5' });
    assert.equal(given.status, 0, given.stderr);
    assert.match(given.stdout, /live: 9 -> 5/);
  });
});

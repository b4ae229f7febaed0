// The pre-traffic hook (lambda/pre-traffic-hook/index.js) with fake Lambda and CodeDeploy
// clients: only a dry-run response whose status is EXPECTED_STATUS lets traffic shift, and
// CodeDeploy hears the verdict in every case, failures included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContract } from '../lib/definitions';
import { DRY_RUN_OK } from '../lib/stockpicks-stack';
const hook: typeof import('../lambda/pre-traffic-hook/index.js') = require('../lambda/pre-traffic-hook/index.js');

const EXPECTED = DRY_RUN_OK;
const TARGET = 'arn:aws:lambda:us-east-1:111122223333:function:stockpicks-prod:7';
const EVENT = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-exec-1' };

class InvokeCommand { constructor(readonly input: any) {} }
class PutLifecycleEventHookExecutionStatusCommand { constructor(readonly input: any) {} }

/** Runs the hook once against a Lambda that answers `reply` (or throws it); returns what each client was sent. */
async function run(reply: { FunctionError?: string; Payload?: Uint8Array } | Error, env: Record<string, string | undefined> = { TARGET_VERSION_ARN: TARGET, EXPECTED_STATUS: EXPECTED }) {
  const invoked: any[] = [];
  const reported: any[] = [];
  const logs: string[] = [];
  const handler = hook.makeHandler({
    lambda: { send: async (cmd: any) => { invoked.push(cmd); if (reply instanceof Error) throw reply; return reply; } },
    codedeploy: { send: async (cmd: any) => { reported.push(cmd); return {}; } },
    InvokeCommand,
    PutLifecycleEventHookExecutionStatusCommand,
    env,
    log: (l) => logs.push(l),
  });
  const result = await handler(EVENT);
  return { result, invoked, reported, logs };
}
const body = (x: unknown) => ({ Payload: new TextEncoder().encode(JSON.stringify(x)) });

/** The one status report CodeDeploy got, checked to name this deployment's hook execution. */
function reportedStatus(reported: any[]): string {
  assert.equal(reported.length, 1, 'exactly one status report');
  assert.ok(reported[0] instanceof PutLifecycleEventHookExecutionStatusCommand);
  assert.equal(reported[0].input.deploymentId, EVENT.DeploymentId);
  assert.equal(reported[0].input.lifecycleEventHookExecutionId, EVENT.LifecycleEventHookExecutionId);
  return reported[0].input.status;
}

describe('pre-traffic hook', () => {
  it('expects a status the contract declares', () => {
    assert.ok(EXPECTED in loadContract().statuses);
  });

  it('invokes the target version with the dry-run event, synchronously', async () => {
    const { invoked } = await run(body({ status: EXPECTED }));
    assert.equal(invoked.length, 1);
    assert.ok(invoked[0] instanceof InvokeCommand);
    assert.equal(invoked[0].input.FunctionName, TARGET);
    assert.equal(invoked[0].input.InvocationType, undefined, 'RequestResponse (the default): the hook needs the reply');
    assert.deepEqual(JSON.parse(Buffer.from(invoked[0].input.Payload).toString()), { op: 'run', universe: 'sp500', dry_run: true });
  });

  it('reports Succeeded for the expected status', async () => {
    const { result, reported, logs } = await run(body({ status: EXPECTED, checks: 5 }));
    assert.equal(reportedStatus(reported), 'Succeeded');
    assert.equal(result, 'Succeeded');
    assert.match(logs.join('\n'), /"status":"Succeeded"/);
  });

  const failures: [string, { FunctionError?: string; Payload?: Uint8Array } | Error, RegExp][] = [
    ['a dry_run_failed body', body({ status: 'dry_run_failed', failed: ['alpha vantage key'] }), /dry_run_failed/],
    ['another declared status', body({ status: 'complete' }), /"complete"/],
    ['a function error, even with the expected status in the body', { FunctionError: 'Unhandled', ...body({ status: EXPECTED }) }, /function error Unhandled/],
    ['an unparseable body', { Payload: new TextEncoder().encode('<html>oops') }, /not JSON/],
    ['an empty body', { Payload: new Uint8Array() }, /not JSON/],
    ['JSON null', body(null), /status undefined/],
    ['a body without status', body({ ok: true }), /status undefined/],
    ['a status of another case', body({ status: EXPECTED.toUpperCase() }), /expected/],
    ['an invoke that throws', new Error('AccessDeniedException'), /dry run failed: AccessDeniedException/],
  ];
  for (const [what, reply, why] of failures) {
    it(`reports Failed for ${what}`, async () => {
      const { result, reported, logs } = await run(reply);
      assert.equal(reportedStatus(reported), 'Failed');
      assert.equal(result, 'Failed');
      assert.match(logs.join('\n'), why);
    });
  }

  it('reports Failed without invoking when its settings are missing', async () => {
    for (const env of [{ TARGET_VERSION_ARN: TARGET }, { EXPECTED_STATUS: EXPECTED }]) {
      const { reported, invoked, logs } = await run(body({ status: EXPECTED }), env);
      assert.equal(reportedStatus(reported), 'Failed');
      assert.equal(invoked.length, 0);
      assert.match(logs.join('\n'), /must be set/);
    }
  });

  it('fails the invocation when CodeDeploy refuses the report (CodeDeploy then times the hook out)', async () => {
    const handler = hook.makeHandler({
      lambda: { send: async () => body({ status: EXPECTED }) },
      codedeploy: { send: async () => { throw new Error('DeploymentDoesNotExistException'); } },
      InvokeCommand, PutLifecycleEventHookExecutionStatusCommand,
      env: { TARGET_VERSION_ARN: TARGET, EXPECTED_STATUS: EXPECTED },
      log: () => {},
    });
    await assert.rejects(handler(EVENT), /DeploymentDoesNotExistException/);
  });
});

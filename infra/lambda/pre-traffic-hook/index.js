// @ts-check
// CodeDeploy's BeforeAllowTraffic hook for the alias `live`: invokes the new version with a
// dry run and lets traffic shift only when the response's status is the one the stack set in
// EXPECTED_STATUS (contracts/contract.json, statuses.dry_run_ok). Anything else (another
// status, a function error, a body that is not JSON, an invoke that throws, a missing
// setting) reports Failed, and CodeDeploy rolls the deployment back.
//
// Plain CommonJS that the Lambda Node.js runtime loads as is (handler index.handler); the
// AWS SDK v3 clients come with that runtime. Type-checked by infra's `tsc --noEmit` (checkJs)
// and unit-tested by infra/test/pre-traffic-hook.test.ts with fake clients.
'use strict';

/** The event the dry run sends: the weekly run's, marked dry (nothing stored or mailed). */
const DRY_RUN_EVENT = { op: 'run', universe: 'sp500', dry_run: true };

/**
 * @typedef {{ send(command: any): Promise<any> }} Client
 *   An AWS SDK v3 client, or a fake with the same `send`.
 * @typedef {new (input: any) => any} CommandClass
 * @typedef {{
 *   lambda: Client,
 *   codedeploy: Client,
 *   InvokeCommand: CommandClass,
 *   PutLifecycleEventHookExecutionStatusCommand: CommandClass,
 *   env: Record<string, string | undefined>,
 *   log?: (line: string) => void,
 * }} Deps
 * @typedef {{ DeploymentId: string, LifecycleEventHookExecutionId: string }} HookEvent
 * @typedef {'Succeeded' | 'Failed'} HookStatus
 */

/**
 * Decides the hook's result from the dry run's Invoke response.
 * @param {{ FunctionError?: string, Payload?: Uint8Array }} out
 * @param {string} expected the status that means every check passed
 * @returns {{ status: HookStatus, body: unknown, why: string }}
 */
function judge(out, expected) {
  if (out.FunctionError) return { status: 'Failed', body: undefined, why: `function error ${out.FunctionError}` };
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 'Failed', body: text.slice(0, 500), why: 'the response is not JSON' };
  }
  const got = body && typeof body === 'object' ? body.status : undefined;
  if (got === expected) return { status: 'Succeeded', body, why: `status ${expected}` };
  return { status: 'Failed', body, why: `status ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}` };
}

/**
 * The handler, with its clients given (tests pass fakes).
 * @param {Deps} deps
 * @returns {(event: HookEvent) => Promise<HookStatus>}
 */
function makeHandler(deps) {
  const log = deps.log ?? ((line) => console.log(line));
  return async (event) => {
    /** @type {HookStatus} */
    let status = 'Failed';
    const target = deps.env.TARGET_VERSION_ARN;
    const expected = deps.env.EXPECTED_STATUS;
    try {
      if (!target || !expected) throw new Error('TARGET_VERSION_ARN and EXPECTED_STATUS must be set');
      const out = await deps.lambda.send(new deps.InvokeCommand({
        FunctionName: target,
        Payload: Buffer.from(JSON.stringify(DRY_RUN_EVENT)),
      }));
      const verdict = judge(out, expected);
      status = verdict.status;
      log(JSON.stringify({ status, why: verdict.why, body: verdict.body }));
    } catch (e) {
      log(JSON.stringify({ status, why: `dry run failed: ${e instanceof Error ? e.message : String(e)}` }));
    }
    // Always report: without a status CodeDeploy waits for the hook's timeout before failing.
    await deps.codedeploy.send(new deps.PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    }));
    return status;
  };
}

/** @type {((event: HookEvent) => Promise<HookStatus>) | undefined} */
let live;

/**
 * The Lambda entry point: the real clients, created on the first call (so tests can load
 * this file without the SDK installed).
 * @param {HookEvent} event
 */
async function handler(event) {
  if (!live) {
    // The SDK is the runtime's, not an infra dependency: an indirect require keeps tsc from
    // looking for its types (the calls are typed by the Deps above).
    /** @type {(id: string) => any} */
    const runtimeRequire = require;
    const { LambdaClient, InvokeCommand } = runtimeRequire('@aws-sdk/client-lambda');
    const { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } = runtimeRequire('@aws-sdk/client-codedeploy');
    live = makeHandler({ lambda: new LambdaClient({}), codedeploy: new CodeDeployClient({}), InvokeCommand, PutLifecycleEventHookExecutionStatusCommand, env: process.env });
  }
  return live(event);
}

module.exports = { handler, makeHandler, judge, DRY_RUN_EVENT };

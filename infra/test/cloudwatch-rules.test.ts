// CloudWatch's own rules, which cfn-lint and moto do not enforce, as the loader in
// lib/definitions.ts encodes them (each rule cites its documentation there). Each case below
// is a definition CloudWatch refuses, or one that would watch a metric nobody emits; the
// first two are the alarms the stack shipped before issue 11.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkEvaluationRange, checkExpression, loadAlarms, loadDashboard, loadContract } from '../lib/definitions';

const contract = loadContract();
const ROOT = path.resolve(__dirname, '..', '..');

/** Writes an alarms file under the repository root (the loader takes paths relative to it). */
function alarmsFile(alarms: unknown[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alarms-'));
  const file = path.join(dir, 'alarms.json');
  fs.writeFileSync(file, JSON.stringify({ alarms }));
  return path.relative(ROOT, file);
}

const base = { description: 'd', threshold: 0, comparison: 'GreaterThanThreshold', treatMissingData: 'notBreaching' };

describe('evaluation range (PutMetricAlarm)', () => {
  it('refuses more than 7 days, and more than 1 day for periods under an hour', () => {
    // The NoSuccessfulRun alarm of a68ad1a: 8 daily periods.
    assert.match(checkEvaluationRange('NoSuccessfulRun', 86400, 8)!, /604800/);
    assert.equal(checkEvaluationRange('x', 86400, 7), undefined);
    assert.equal(checkEvaluationRange('x', 3600, 168), undefined);
    assert.match(checkEvaluationRange('x', 3600, 169)!, /604800/);
    assert.equal(checkEvaluationRange('x', 300, 288), undefined);
    assert.match(checkEvaluationRange('x', 300, 289)!, /86400/);
    assert.match(checkEvaluationRange('x', 90, 1)!, /multiple of 60/);
  });

  it('is applied by loadAlarms', () => {
    const rel = alarmsFile([{ ...base, id: 'NoSuccessfulRun', metric: { source: 'custom', name: 'RunSucceeded', stat: 'Sum' }, periodSeconds: 86400, evaluationPeriods: 8 }]);
    assert.throws(() => loadAlarms(rel, contract), /NoSuccessfulRun: periodSeconds x evaluationPeriods = 691200 s/);
  });
});

describe('metric math in alarms', () => {
  it('refuses a scalar inside an array argument (the ErrorRate expression of a68ad1a)', () => {
    assert.match(checkExpression('ErrorRate', '100 * errors / MAX([invocations, 1])', ['errors', 'invocations'])!, /holds 1, which is not a metric id/);
    assert.equal(checkExpression('ErrorRate', 'IF(invocations > 0, 100 * errors / invocations, 0)', ['errors', 'invocations']), undefined);
    assert.equal(checkExpression('x', 'MAX([a, b])', ['a', 'b']), undefined);
  });

  it('refuses ids that do not start with a lower-case letter, unknown names and unused metrics', () => {
    assert.match(checkExpression('x', 'Errors + 1', ['Errors'])!, /lower-case/);
    assert.match(checkExpression('x', 'a + b', ['a'])!, /b is neither/);
    assert.match(checkExpression('x', 'a + 1', ['a', 'b'])!, /b is not used/);
    assert.match(checkExpression('x', 'SQRT(a)', ['a'])!, /SQRT is neither/);
  });

  it('is applied by loadAlarms', () => {
    const rel = alarmsFile([{ ...base, id: 'ErrorRate', expression: '100 * errors / MAX([invocations, 1])', periodSeconds: 300, evaluationPeriods: 1,
      metrics: { errors: { source: 'function', name: 'Errors', stat: 'Sum' }, invocations: { source: 'function', name: 'Invocations', stat: 'Sum' } } }]);
    assert.throws(() => loadAlarms(rel, contract), /ErrorRate: array \[invocations, 1\] holds 1/);
  });
});

describe('metrics the function emits (contracts/contract.json)', () => {
  it('refuses an alarm on a custom metric the contract does not declare', () => {
    const rel = alarmsFile([{ ...base, id: 'Typo', metric: { source: 'custom', name: 'RunSucceded', stat: 'Sum' }, periodSeconds: 3600, evaluationPeriods: 1 }]);
    assert.throws(() => loadAlarms(rel, contract), /RunSucceded is not a metric of contracts\/contract.json/);
  });

  it('refuses the live-alias source: alarms watch the function as a whole', () => {
    const rel = alarmsFile([{ ...base, id: 'FailedRun', metric: { source: 'alias', name: 'Errors', stat: 'Sum' }, periodSeconds: 3600, evaluationPeriods: 1 }]);
    assert.throws(() => loadAlarms(rel, contract), /FailedRun: source must be one of function,/);
  });

  it('the shipped alarms and dashboard load, and every custom metric they name is declared', () => {
    const alarms = loadAlarms(undefined, contract);
    const dash = loadDashboard(undefined, contract);
    const refs = [
      ...alarms.flatMap((a) => (a.metric ? [a.metric] : Object.values(a.metrics!))),
      ...dash.rows.flat().flatMap((w) => w.metrics ?? []),
    ].filter((m) => m.source === 'custom');
    assert.ok(refs.length > 10);
    for (const m of refs) assert.ok(m.name in contract.metrics, m.name);
    for (const name of ['EmailsFailed', 'EmailsUnconfirmed', 'ReportAgeHours']) assert.ok(alarms.some((a) => a.metric?.name === name), `an alarm on ${name}`);
  });
});

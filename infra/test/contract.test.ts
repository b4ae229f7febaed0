// contracts/contract.json is the one file for the names the Rust function and this stack
// share. These tests prove the stack is built from it (a changed name moves every resource
// that uses it) and that a definition naming something the contract does not declare, or a
// malformed contract, fails synth with the field named.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Contract, checkContract, loadAlarms, loadContract, loadDashboard, loadLifecycle, topLevelPrefixes } from '../lib/definitions';
import { Definitions, loadDefinitions } from '../lib/stockpicks-stack';
import { synth } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const contract = loadContract();
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** Writes a JSON file under a temporary directory; returns its path relative to the repository (as the loaders take it). */
function file(name: string, doc: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify(doc));
  return path.relative(ROOT, f);
}
const repoJson = (rel: string) => JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'));

const resourcesOf = (t: any): Record<string, any> => t.toJSON().Resources;
const ofType = (res: Record<string, any>, type: string) => Object.values(res).filter((r) => r.Type === type);
/** The object-key patterns of the template's S3 grants ("runs/*", "runs/*\/chunks/*"), and the ListBucket prefixes. */
function s3Keys(res: Record<string, any>): { objects: string[]; listed: string[]; deletes: string[] } {
  const statements = ofType(res, 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument.Statement);
  const keyOf = (r: any): string | undefined => {
    const parts = r?.['Fn::Join']?.[1];
    return Array.isArray(parts) && typeof parts.at(-1) === 'string' && parts.at(-1).startsWith('/') ? parts.at(-1).slice(1) : undefined;
  };
  const s3 = statements.filter((st) => [].concat(st.Action).some((a: string) => a.startsWith('s3:')));
  const objects = s3.flatMap((st) => [].concat(st.Resource).map(keyOf)).filter((k): k is string => !!k);
  const deletes = s3.filter((st) => [].concat(st.Action).includes('s3:DeleteObject' as never)).flatMap((st) => [].concat(st.Resource).map(keyOf)).filter((k): k is string => !!k);
  const listed = s3.flatMap((st) => st.Condition?.StringLike?.['s3:prefix'] ?? []);
  return { objects, listed, deletes };
}
const literalPart = (pattern: string) => pattern.slice(0, pattern.indexOf('*'));

describe('contract loader', () => {
  it('loads the shipped contract with every section', () => {
    assert.equal(contract.namespace, 'StockPicks');
    for (const k of ['metrics', 'log_markers', 'statuses', 's3_prefixes'] as const) assert.ok(Object.keys(contract[k]).length > 0, k);
    assert.ok('dry_run_ok' in contract.statuses);
    assert.deepEqual(topLevelPrefixes(contract).map((p) => p.prefix), ['runs/', 'reports/', 'cache/'], 'reports/history/ is inside reports/');
  });

  // Each malformed field fails with its name, before any resource is made.
  const broken: [string, (c: any) => void, RegExp][] = [
    ['namespace missing', (c) => delete c.namespace, /namespace missing or malformed/],
    ['namespace in AWS/', (c) => (c.namespace = 'AWS/Lambda'), /namespace/],
    ['dimensions empty', (c) => (c.dimensions = []), /dimensions/],
    ['metric unit', (c) => (c.metrics.ApiCalls.unit = 'Calls'), /metrics\.ApiCalls: unit/],
    ['log_markers missing', (c) => delete c.log_markers, /log_markers must be a non-empty object/],
    ['marker message with a wildcard', (c) => (c.log_markers.ChunkComplete.message = 'Chunk * complete'), /log_markers\.ChunkComplete\.message/],
    ['marker message with a quote', (c) => (c.log_markers.ChunkComplete.message = 'Chunk "x"'), /log_markers\.ChunkComplete\.message/],
    ['marker id that is a metric name', (c) => (c.log_markers.ApiCalls = { message: 'api', what: 'x' }), /log_markers\.ApiCalls: id malformed or also a metric name/],
    ['two markers, one message', (c) => (c.log_markers.AnalysisComplete.message = c.log_markers.ChunkComplete.message), /repeats another marker's message/],
    ['statuses a list', (c) => (c.statuses = ['dry_run_ok']), /statuses must be a non-empty object/],
    ['status not snake_case', (c) => (c.statuses.DryRunOk = 'x'), /statuses\.DryRunOk/],
    ['s3_prefixes missing', (c) => delete c.s3_prefixes, /s3_prefixes must be a non-empty object/],
    ['prefix without its slash', (c) => (c.s3_prefixes.runs.prefix = 'runs'), /s3_prefixes\.runs\.prefix must be path segments/],
    ['prefix absolute', (c) => (c.s3_prefixes.runs.prefix = '/runs/'), /s3_prefixes\.runs\.prefix/],
    ['prefix repeated', (c) => (c.s3_prefixes.cache.prefix = 'runs/'), /s3_prefixes\.cache\.prefix repeats/],
  ];
  for (const [what, mutate, error] of broken) {
    it(`refuses a contract with ${what}`, () => {
      const doc = clone(contract);
      mutate(doc);
      assert.throws(() => checkContract(doc), error);
    });
  }

  it('names the file when it is not JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'));
    fs.writeFileSync(path.join(dir, 'contract.json'), '{ "namespace": ');
    assert.throws(() => loadContract(path.relative(ROOT, path.join(dir, 'contract.json'))), /contract\.json: /);
  });
});

describe('definitions name only what the contract declares', () => {
  const dashboard = repoJson('dashboards/dashboard.json');
  const widget = (w: unknown) => ({ ...clone(dashboard), rows: [[w]] });

  it('refuses a widget on an undeclared metric', () => {
    const rel = file('dashboard.json', widget({ type: 'graph', title: 'Typo', metrics: [{ source: 'custom', name: 'StocksRankd', stat: 'Sum' }] }));
    assert.throws(() => loadDashboard(rel, contract), /Typo\[0\]: StocksRankd is not a metric of contracts\/contract.json/);
  });

  it('refuses an undeclared marker: in the filter list, in a graph, in a logs query', () => {
    const list = file('dashboard.json', { ...clone(dashboard), markers: ['ChunkComplete', 'ChunkDone'] });
    assert.throws(() => loadDashboard(list, contract), /markers: "ChunkDone" is not a log_markers id/);
    const graph = file('dashboard.json', widget({ type: 'graph', title: 'Markers', metrics: [{ source: 'marker', name: 'ChunkDone', stat: 'Sum' }] }));
    assert.throws(() => loadDashboard(graph, contract), /Markers\[0\]: ChunkDone is not a log_markers id/);
    const query = file('dashboard.json', widget({ type: 'logs', title: 'Q', query: 'filter fields.message = {{marker:ChunkDone}}' }));
    assert.throws(() => loadDashboard(query, contract), /Q: \{\{marker:ChunkDone\}\}: ChunkDone is not a log_markers id/);
    const other = file('dashboard.json', widget({ type: 'logs', title: 'Q', query: 'filter fields.message = {{message:ChunkComplete}}' }));
    assert.throws(() => loadDashboard(other, contract), /Q: unknown placeholder/);
  });

  it('refuses a graph on a declared marker that has no metric filter', () => {
    const rel = file('dashboard.json', { ...widget({ type: 'graph', title: 'M', metrics: [{ source: 'marker', name: 'ChunkComplete', stat: 'Sum' }] }), markers: ['ChunksLaunched'] });
    assert.throws(() => loadDashboard(rel, contract), /M\[0\]: marker ChunkComplete has no metric filter/);
  });

  it('refuses an alarm on an undeclared marker', () => {
    const rel = file('alarms.json', { alarms: [{ id: 'NoChunks', description: 'd', metric: { source: 'marker', name: 'ChunkDone', stat: 'Sum' }, periodSeconds: 3600, evaluationPeriods: 1, threshold: 0, comparison: 'LessThanThreshold', treatMissingData: 'breaching' }] });
    assert.throws(() => loadAlarms(rel, contract), /NoChunks: ChunkDone is not a log_markers id/);
  });

  it('refuses a lifecycle rule on an undeclared prefix id, or with a literal prefix', () => {
    const unknown = file('rules.json', { rules: [{ id: 'r', prefixId: 'tmp', expireAfterDays: 1, why: 'w' }] });
    assert.throws(() => loadLifecycle(unknown, contract), /rule r: prefixId tmp is not an s3_prefixes id/);
    const literal = file('rules.json', { rules: [{ id: 'r', prefix: 'runs/', expireAfterDays: 1, why: 'w' }] });
    assert.throws(() => loadLifecycle(literal, contract), /rule r: give prefixId/);
  });

  it('resolves the shipped lifecycle rules to contract prefixes', () => {
    const rules = loadLifecycle(undefined, contract);
    const declared = Object.values(contract.s3_prefixes).map((p) => p.prefix);
    assert.ok(rules.filter((r) => r.prefix).length >= 3);
    for (const r of rules) if (r.prefix !== undefined) assert.ok(declared.includes(r.prefix), `${r.id}: ${r.prefix}`);
  });

  it('expands the Run markers query from the contract messages, with no message copied into dashboard.json', () => {
    const text = fs.readFileSync(path.join(ROOT, 'dashboards', 'dashboard.json'), 'utf8');
    for (const m of Object.values(contract.log_markers)) assert.ok(!text.includes(m.message), `dashboard.json copies "${m.message}"`);
    const logs = loadDashboard(undefined, contract).rows.flat().find((w) => w.title === 'Run markers')!;
    for (const m of Object.values(contract.log_markers)) assert.ok(logs.query!.includes(JSON.stringify(m.message)), m.message);
  });
});

describe('the synthesized stack follows the contract', () => {
  // The shipped template: every S3 key pattern in IAM and lifecycle starts with a declared
  // prefix, and every metric filter matches a declared marker's message exactly.
  it('names only declared S3 prefixes and marker messages', () => {
    const { template } = synth();
    const res = resourcesOf(template);
    const declared = Object.values(contract.s3_prefixes).map((p) => p.prefix);
    const { objects, listed, deletes } = s3Keys(res);
    assert.ok(objects.length >= 4 && listed.length >= 3, JSON.stringify({ objects, listed }));
    for (const k of [...objects, ...listed]) assert.ok(declared.includes(literalPart(k)), `IAM names ${k}, outside the contract's prefixes`);
    assert.deepEqual(deletes, [`${contract.s3_prefixes.runs.prefix}*/chunks/*`]);
    const rules = ofType(res, 'AWS::S3::Bucket').flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    for (const r of rules) if (r.Prefix !== undefined) assert.ok(declared.includes(r.Prefix), `lifecycle rule ${r.Id}: ${r.Prefix}`);
    const patterns = ofType(res, 'AWS::Logs::MetricFilter').map((f) => f.Properties.FilterPattern).sort();
    const expected = repoJson('dashboards/dashboard.json').markers.map((id: string) => `{ $.fields.message = "${contract.log_markers[id].message}" }`).sort();
    assert.deepEqual(patterns, expected);
    for (const f of ofType(res, 'AWS::Logs::MetricFilter')) {
      const t = f.Properties.MetricTransformations[0];
      assert.equal(t.MetricNamespace, contract.namespace);
      assert.ok(t.MetricName in contract.log_markers, t.MetricName);
    }
  });

  // The same stack from a contract with every shared name changed: nothing of the old names
  // may remain, so none of them is written anywhere else in the stack.
  it('moves namespace, markers and prefixes when the contract changes them', () => {
    const changed: Contract = clone(contract);
    changed.namespace = 'OtherPicks';
    for (const [id, m] of Object.entries(changed.log_markers)) m.message = `marker ${id.toLowerCase()}`;
    changed.s3_prefixes.runs.prefix = 'work/';
    changed.s3_prefixes.reports.prefix = 'published/';
    changed.s3_prefixes.history.prefix = 'published/history/';
    changed.s3_prefixes.cache.prefix = 'memo/';
    const defs: Definitions = loadDefinitions(changed);
    const { template } = synth(undefined, defs);
    const res = resourcesOf(template);
    // Prose (an alarm's description mentions reports/latest.json) is not a name.
    const text = JSON.stringify(res, (k, v) => (k === 'AlarmDescription' || k === 'Description' ? undefined : v));
    for (const old of [contract.namespace, ...Object.values(contract.log_markers).map((m) => m.message), 'runs/', 'reports/', 'cache/']) {
      assert.ok(!text.includes(old), `the template still names ${old}`);
    }
    const { objects, listed, deletes } = s3Keys(res);
    assert.deepEqual([...new Set(objects.map(literalPart))].sort(), ['memo/', 'published/', 'work/']);
    assert.deepEqual(listed, ['work/*', 'published/*', 'memo/*']);
    assert.deepEqual(deletes, ['work/*/chunks/*']);
    const rules = ofType(res, 'AWS::S3::Bucket').flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    assert.equal(rules.find((r: any) => r.Id === 'runs-expire').Prefix, 'work/');
    assert.ok(ofType(res, 'AWS::Logs::MetricFilter').some((f) => f.Properties.FilterPattern === '{ $.fields.message = "marker chunkcomplete" }'));
    assert.ok(text.includes('\\"marker chunkcomplete\\"'), 'the Run markers query');
    const fn = ofType(res, 'AWS::Lambda::Function').find((f) => f.Properties.FunctionName === 'stockpicks-prod');
    assert.equal(fn.Properties.Environment.Variables.METRICS_NAMESPACE, 'OtherPicks');
    const namespaces = ofType(res, 'AWS::CloudWatch::Alarm').flatMap((a) => [a.Properties.Namespace, ...(a.Properties.Metrics ?? []).map((m: any) => m.MetricStat?.Metric.Namespace)]).filter((n) => n && !n.startsWith('AWS/'));
    assert.ok(namespaces.length >= 8);
    for (const n of namespaces) assert.equal(n, 'OtherPicks');
  });

  it('refuses to synth when the contract lacks the dry run\'s success status', () => {
    const changed: Contract = clone(contract);
    delete (changed.statuses as Record<string, string>).dry_run_ok;
    assert.throws(() => synth(undefined, loadDefinitions(changed)), /pre-traffic hook: status dry_run_ok is not declared in contracts\/contract.json statuses/);
  });

  it('refuses to synth when the chunk grant\'s prefix id (runs) is gone', () => {
    const changed: Contract = clone(contract);
    delete (changed.s3_prefixes as Record<string, unknown>).runs;
    const defs = loadDefinitions({ ...changed, s3_prefixes: { ...changed.s3_prefixes, runs: contract.s3_prefixes.runs } });
    // The lifecycle rule still resolves (loaded with runs); the stack is then given a contract without it.
    assert.throws(() => synth(undefined, { ...defs, contract: changed }), /chunk delete grant: runs is not an s3_prefixes id/);
  });
});

describe('CodeDeploy rollback alarms', () => {
  // A rename in alarms/alarms.json used to drop the alarm from the rollback set silently
  // (`.filter(Boolean)`); now it is a synth error.
  for (const id of ['ErrorRate', 'FailedRun']) {
    it(`refuses to synth when rollback alarm ${id} is renamed`, () => {
      const defs = loadDefinitions();
      defs.alarms = defs.alarms.map((a) => (a.id === id ? { ...a, id: `${id}Renamed` } : a));
      assert.throws(() => synth(undefined, defs), new RegExp(`CodeDeploy rolls back on alarm ${id}, which is not defined`));
    });
  }

  it('refuses an alarm on a marker the dashboard gives no metric filter', () => {
    const defs = loadDefinitions();
    defs.dashboard = { ...defs.dashboard, markers: defs.dashboard.markers.filter((m) => m.name !== 'ChunkComplete') };
    defs.alarms = [...defs.alarms, { id: 'NoChunks', description: 'd', metric: { source: 'marker', name: 'ChunkComplete', stat: 'Sum' }, periodSeconds: 3600, evaluationPeriods: 1, threshold: 1, comparison: 'LessThanThreshold', treatMissingData: 'breaching' }];
    assert.throws(() => synth(undefined, defs), /NoChunks watches marker ChunkComplete, which dashboards\/dashboard.json gives no metric filter/);
  });
});

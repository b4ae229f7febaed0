// Typed loaders for the JSON definitions in ../alarms, ../dashboards, ../lifecycle and
// ../contracts. A malformed file fails synth with the file and the field that was wrong, and
// so does an alarm CloudWatch itself would refuse (its rules are encoded below, with the
// documentation they come from): cfn-lint and moto accept such alarms, CloudWatch does not.
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where a metric comes from. `function` is the Lambda's own AWS/Lambda metrics with only the
 * FunctionName dimension, i.e. every version and alias together: lanes and the aggregation
 * run on the version, not on `live`, so an alias metric would not see them.
 */
export type MetricSource = 'function' | 'custom' | 'dlq' | 'bucket' | 'ses' | 'marker' | 'scheduler';

export interface MetricRef {
  source: MetricSource;
  name: string;
  stat: string;
  storageType?: string;
}

export interface AlarmDef {
  id: string;
  description: string;
  metric?: MetricRef;
  expression?: string;
  metrics?: Record<string, MetricRef>;
  periodSeconds: number;
  threshold: number;
  comparison: 'GreaterThanThreshold' | 'LessThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanOrEqualToThreshold';
  evaluationPeriods: number;
  treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

export interface WidgetDef {
  type: 'graph' | 'logs';
  title: string;
  metrics?: MetricRef[];
  query?: string;
}

export interface DashboardDef {
  rows: WidgetDef[][];
  markers: { name: string; pattern: string }[];
}

export interface LifecycleRuleDef {
  id: string;
  prefix?: string;
  expireAfterDays?: number;
  abortIncompleteUploadAfterDays?: number;
  transitions?: { storageClass: 'STANDARD_IA' | 'GLACIER_IR' | 'GLACIER'; afterDays: number }[];
  why: string;
}

function load(rel: string): any {
  const file = path.join(ROOT, rel);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${rel}: ${(e as Error).message}`);
  }
}

function need(cond: boolean, rel: string, what: string): void {
  if (!cond) throw new Error(`${rel}: ${what}`);
}

const SOURCES: MetricSource[] = ['function', 'custom', 'dlq', 'bucket', 'ses', 'marker', 'scheduler'];

/** The custom metrics the function emits: contracts/contract.json, shared with the Rust tests. */
export interface MetricsContract {
  namespace: string;
  dimensions: string[];
  metrics: Record<string, { unit: string; what: string }>;
}

export function loadMetricsContract(rel = 'contracts/contract.json'): MetricsContract {
  const doc = load(rel);
  need(typeof doc.namespace === 'string' && /^[A-Za-z][A-Za-z0-9/_.-]*$/.test(doc.namespace), rel, 'namespace missing or malformed');
  need(Array.isArray(doc.dimensions) && doc.dimensions.length > 0, rel, 'dimensions must be a non-empty list');
  need(!!doc.metrics && typeof doc.metrics === 'object' && Object.keys(doc.metrics).length > 0, rel, 'metrics must be an object');
  for (const [name, m] of Object.entries(doc.metrics as Record<string, any>)) {
    need(/^[A-Za-z][A-Za-z0-9]*$/.test(name), rel, `metric name ${name} malformed`);
    need(['Count', 'Milliseconds', 'None'].includes(m.unit), rel, `${name}: unit must be Count, Milliseconds or None`);
  }
  return doc;
}

function checkMetric(rel: string, where: string, m: MetricRef, contract: MetricsContract, markers?: string[]): void {
  need(!!m && SOURCES.includes(m.source), rel, `${where}: source must be one of ${SOURCES.join(', ')}`);
  need(typeof m.name === 'string' && m.name.length > 0, rel, `${where}: name missing`);
  need(typeof m.stat === 'string' && m.stat.length > 0, rel, `${where}: stat missing`);
  // An alarm on a name the function never emits sits in INSUFFICIENT_DATA (or OK) for ever.
  if (m.source === 'custom') need(m.name in contract.metrics, rel, `${where}: ${m.name} is not a metric of contracts/contract.json`);
  if (m.source === 'marker' && markers) need(markers.includes(m.name), rel, `${where}: ${m.name} is not a marker of the dashboard`);
}

/**
 * CloudWatch's limit on how far back an alarm may look. PutMetricAlarm
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html):
 * "An alarm's total current evaluation period can be no longer than seven days, so Period
 * multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period
 * of less than one hour (3,600 seconds), the total evaluation period can't be longer than one
 * day." The same page on Period: "Valid values are 10, 20, 30, and any multiple of 60."
 */
export function checkEvaluationRange(id: string, periodSeconds: number, evaluationPeriods: number): string | undefined {
  if (!Number.isInteger(periodSeconds) || !(periodSeconds % 60 === 0 && periodSeconds >= 60)) return `${id}: periodSeconds must be a multiple of 60`;
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) return `${id}: evaluationPeriods >= 1`;
  const range = periodSeconds * evaluationPeriods;
  if (range > 7 * 86400) return `${id}: periodSeconds x evaluationPeriods = ${range} s; CloudWatch allows at most 604800 (7 days)`;
  if (periodSeconds < 3600 && range > 86400) return `${id}: periodSeconds < 3600 and a ${range} s evaluation range; CloudWatch allows at most 86400 (1 day) then`;
  return undefined;
}

/** Metric math functions this project's alarms may use (all return a time series for a time-series argument). */
const MATH_FUNCTIONS: string[] = ['IF', 'FILL', 'MAX', 'MIN', 'SUM', 'AVG', 'ABS', 'RATE', 'DIFF', 'AND', 'OR', 'NOT'];

/**
 * Metric math that CloudWatch accepts in an alarm, as far as this project uses it.
 * - Ids: "It can include numbers, letters, and underscore, and must start with a lowercase
 *   letter" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
 * - "Any expression used in a PutMetricAlarm operation must return a single time series"
 *   (MetricDataQuery, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
 * - An array argument (`MAX([a, b])`) holds time series only: CloudWatch refuses a scalar in
 *   it when the alarm is created ("Unsupported operand type(s) for MAX:
 *   '[Array[TimeSeries, Scalar]]'", the ValidationException recorded in
 *   ../shared/reviews/deploy-readiness.md, finding B2). Use IF(...) to guard a division.
 * - Every id the expression names is one of its metrics, and every metric is used.
 */
export function checkExpression(id: string, expression: string, metricIds: string[]): string | undefined {
  for (const m of metricIds) if (!/^[a-z][A-Za-z0-9_]*$/.test(m)) return `${id}: metric id ${m} must start with a lower-case letter (letters, digits, _)`;
  for (const arr of expression.match(/\[[^\]]*\]/g) ?? []) {
    for (const el of arr.slice(1, -1).split(',').map((x) => x.trim())) {
      if (!metricIds.includes(el)) return `${id}: array ${arr} holds ${el}, which is not a metric id: CloudWatch takes only time series in an array`;
    }
  }
  const words: string[] = expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  for (const w of words) {
    if (MATH_FUNCTIONS.includes(w)) continue;
    if (!metricIds.includes(w)) return `${id}: ${w} is neither a metric id nor a supported function`;
  }
  for (const m of metricIds) if (!words.includes(m)) return `${id}: metric ${m} is not used by the expression`;
  if (/\(\s*\)/.test(expression)) return `${id}: empty call in the expression`;
  return undefined;
}

export function loadAlarms(rel = 'alarms/alarms.json', contract = loadMetricsContract()): AlarmDef[] {
  const doc = load(rel);
  need(Array.isArray(doc.alarms), rel, 'alarms must be a list');
  const ids = new Set<string>();
  for (const a of doc.alarms as AlarmDef[]) {
    need(/^[A-Za-z][A-Za-z0-9]*$/.test(a.id) && !ids.has(a.id), rel, `alarm id ${a.id} missing, malformed or repeated`);
    ids.add(a.id);
    need(!!a.metric !== !!a.expression, rel, `${a.id}: give either metric or expression`);
    if (a.metric) checkMetric(rel, a.id, a.metric, contract);
    if (a.expression) {
      need(!!a.metrics && Object.keys(a.metrics).length > 0, rel, `${a.id}: expression needs metrics`);
      for (const [k, m] of Object.entries(a.metrics!)) checkMetric(rel, `${a.id}.${k}`, m, contract);
      const bad = checkExpression(a.id, a.expression, Object.keys(a.metrics!));
      need(!bad, rel, bad!);
    }
    need(Number.isFinite(a.threshold), rel, `${a.id}: threshold must be a number`);
    const range = checkEvaluationRange(a.id, a.periodSeconds, a.evaluationPeriods);
    need(!range, rel, range!);
  }
  return doc.alarms;
}

export function loadDashboard(rel = 'dashboards/dashboard.json', contract = loadMetricsContract()): DashboardDef {
  const doc = load(rel);
  need(Array.isArray(doc.rows), rel, 'rows must be a list');
  need(Array.isArray(doc.markers), rel, 'markers must be a list');
  const markers = (doc.markers as { name: string }[]).map((m) => m.name);
  for (const row of doc.rows as WidgetDef[][]) {
    for (const w of row) {
      need(w.type === 'graph' || w.type === 'logs', rel, `${w.title}: type must be graph or logs`);
      if (w.type === 'graph') (w.metrics ?? []).forEach((m, i) => checkMetric(rel, `${w.title}[${i}]`, m, contract, markers));
      if (w.type === 'logs') need(typeof w.query === 'string', rel, `${w.title}: logs widget needs a query`);
    }
  }
  return doc;
}

export function loadLifecycle(rel = 'lifecycle/rules.json'): LifecycleRuleDef[] {
  const doc = load(rel);
  need(Array.isArray(doc.rules), rel, 'rules must be a list');
  for (const r of doc.rules as LifecycleRuleDef[]) {
    need(!!r.id && !!r.why, rel, `rule ${r.id}: id and why are required`);
    need(r.expireAfterDays !== undefined || r.abortIncompleteUploadAfterDays !== undefined || !!r.transitions, rel, `rule ${r.id}: does nothing`);
  }
  return doc.rules;
}

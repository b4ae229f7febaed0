// Typed loaders for the JSON definitions in ../alarms, ../dashboards, ../lifecycle and
// ../contracts (contract.json: the names shared with the Rust function; every other file
// names metrics, log markers and S3 prefixes by their contract id, and is checked against it). A malformed file fails synth with the file and the field that was wrong, and
// so does an alarm CloudWatch itself would refuse (its rules are encoded below, with the
// documentation they come from): cfn-lint and moto accept such alarms, CloudWatch does not.
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where a metric comes from. `function` is the Lambda's own AWS/Lambda metrics with only the
 * FunctionName dimension, i.e. every version and alias together: lanes and the aggregation
 * run on the version, not on `live`, so an alias metric would not see them. `reputation` is
 * the account's SES reputation (AWS/SES Reputation.BounceRate / Reputation.ComplaintRate, no
 * dimensions: the whole account and Region, every sender and configuration set).
 */
export type MetricSource = 'function' | 'custom' | 'dlq' | 'bucket' | 'ses' | 'marker' | 'scheduler' | 'reputation';

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
  /** The log markers that get a metric filter, by contract id, with the contract's message. */
  markers: { name: string; message: string }[];
}

export interface LifecycleRuleDef {
  id: string;
  /** In rules.json: an s3_prefixes id of the contract. The loader resolves it into `prefix`. */
  prefixId?: string;
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

const SOURCES: MetricSource[] = ['function', 'custom', 'dlq', 'bucket', 'ses', 'marker', 'scheduler', 'reputation'];

/**
 * The account-level reputation metrics SES publishes: "Amazon SES automatically publishes two
 * reputation-related metrics to Amazon CloudWatch: Reputation.BounceRate and
 * Reputation.ComplaintRate", as "decimal numbers between 0 and 1"
 * (https://docs.aws.amazon.com/ses/latest/DeveloperGuide/reputationdashboard-cloudwatch-alarm.html).
 */
export const REPUTATION_METRICS = ['Reputation.BounceRate', 'Reputation.ComplaintRate'];

/**
 * contracts/contract.json: the names the Rust function and this stack share, written once
 * (the Rust side checks the same file in function/src/contract.rs). Keys are the file's own.
 */
export interface Contract {
  namespace: string;
  dimensions: string[];
  metrics: Record<string, { unit: string; what: string }>;
  /** Marker id -> the fixed `fields.message` of the log line; metric filters match it exactly. */
  log_markers: Record<string, { message: string; what: string }>;
  /** The `status` values of the Lambda's responses, id -> what it means. */
  statuses: Record<string, string>;
  /** Prefix id -> the S3 key prefix ("runs/") the function writes under. */
  s3_prefixes: Record<string, { prefix: string; what: string }>;
}

const CONTRACT = 'contracts/contract.json';

function isRecord(v: unknown): v is Record<string, any> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Checks the shape of a parsed contract; `rel` names the file in the errors. */
export function checkContract(doc: any, rel = CONTRACT): Contract {
  need(isRecord(doc), rel, 'must be a JSON object');
  need(typeof doc.namespace === 'string' && /^[A-Za-z][A-Za-z0-9/_.-]*$/.test(doc.namespace) && !doc.namespace.startsWith('AWS/'), rel, 'namespace missing or malformed (and AWS/ is reserved for AWS)');
  need(Array.isArray(doc.dimensions) && doc.dimensions.length > 0 && doc.dimensions.every((d: unknown) => typeof d === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(d)), rel, 'dimensions must be a non-empty list of names');
  need(isRecord(doc.metrics) && Object.keys(doc.metrics).length > 0, rel, 'metrics must be a non-empty object');
  for (const [name, m] of Object.entries(doc.metrics as Record<string, any>)) {
    need(/^[A-Za-z][A-Za-z0-9]*$/.test(name), rel, `metric name ${name} malformed`);
    need(isRecord(m) && ['Count', 'Milliseconds', 'None'].includes(m.unit), rel, `metrics.${name}: unit must be Count, Milliseconds or None`);
  }
  need(isRecord(doc.log_markers) && Object.keys(doc.log_markers).length > 0, rel, 'log_markers must be a non-empty object');
  const messages = new Set<string>();
  for (const [id, m] of Object.entries(doc.log_markers as Record<string, any>)) {
    // The id becomes a metric name in the contract's namespace: it must not shadow an EMF one.
    need(/^[A-Za-z][A-Za-z0-9]*$/.test(id) && !(id in doc.metrics), rel, `log_markers.${id}: id malformed or also a metric name`);
    // The message goes into a metric filter (`{ $.fields.message = "..." }`) and a Logs
    // Insights string. In a filter pattern `*` is a wildcard and `"` ends the string
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html),
    // so a message holding either would match other lines or break the pattern: the message
    // is a fixed text, the variable parts are fields of the log line.
    need(isRecord(m) && typeof m.message === 'string' && /^[A-Za-z0-9_][A-Za-z0-9 _.:-]*$/.test(m.message), rel, `log_markers.${id}.message missing, or holds a character outside letters, digits, space and _ . : -`);
    need(!messages.has(m.message), rel, `log_markers.${id}.message repeats another marker's message`);
    messages.add(m.message);
  }
  need(isRecord(doc.statuses) && Object.keys(doc.statuses).length > 0, rel, 'statuses must be a non-empty object');
  for (const [id, what] of Object.entries(doc.statuses as Record<string, any>)) {
    need(/^[a-z][a-z0-9_]*$/.test(id) && typeof what === 'string', rel, `statuses.${id}: id must be snake_case with a description`);
  }
  need(isRecord(doc.s3_prefixes) && Object.keys(doc.s3_prefixes).length > 0, rel, 's3_prefixes must be a non-empty object');
  const prefixes = new Set<string>();
  for (const [id, p] of Object.entries(doc.s3_prefixes as Record<string, any>)) {
    // Relative keys ending in "/", so "runs/" cannot also match "runsheet.json" in IAM or lifecycle.
    need(isRecord(p) && typeof p.prefix === 'string' && /^([a-z0-9][a-z0-9_-]*\/)+$/.test(p.prefix), rel, `s3_prefixes.${id}.prefix must be path segments each ending in "/" (e.g. "runs/")`);
    need(!prefixes.has(p.prefix), rel, `s3_prefixes.${id}.prefix repeats another prefix`);
    prefixes.add(p.prefix);
  }
  return doc as Contract;
}

export function loadContract(rel = CONTRACT): Contract {
  return checkContract(load(rel), rel);
}

/** The S3 prefix of a contract id, or a synth error naming the id. */
export function s3Prefix(contract: Contract, id: string, where = 'infra'): string {
  const p = contract.s3_prefixes[id];
  if (!p) throw new Error(`${where}: ${id} is not an s3_prefixes id of ${CONTRACT} (declared: ${Object.keys(contract.s3_prefixes).join(', ')})`);
  return p.prefix;
}

/**
 * The prefixes the function's IAM grants name: every declared prefix that no other declared
 * prefix contains (reports/history/ is inside reports/), in the contract's order.
 */
export function topLevelPrefixes(contract: Contract): { id: string; prefix: string; what: string }[] {
  const all = Object.entries(contract.s3_prefixes).map(([id, p]) => ({ id, ...p }));
  return all.filter((p) => !all.some((q) => q.prefix !== p.prefix && p.prefix.startsWith(q.prefix)));
}

/** A response status of the contract, or a synth error naming it. */
export function status(contract: Contract, id: string, where = 'infra'): string {
  if (!(id in contract.statuses)) throw new Error(`${where}: status ${id} is not declared in ${CONTRACT} statuses`);
  return id;
}

/** The log message of a marker id, or a synth error naming the id. */
export function markerMessage(contract: Contract, id: string, where = 'infra'): string {
  const m = contract.log_markers[id];
  if (!m) throw new Error(`${where}: ${id} is not a log_markers id of ${CONTRACT} (declared: ${Object.keys(contract.log_markers).join(', ')})`);
  return m.message;
}

function checkMetric(rel: string, where: string, m: MetricRef, contract: Contract, markers?: string[]): void {
  need(!!m && SOURCES.includes(m.source), rel, `${where}: source must be one of ${SOURCES.join(', ')}`);
  need(typeof m.name === 'string' && m.name.length > 0, rel, `${where}: name missing`);
  need(typeof m.stat === 'string' && m.stat.length > 0, rel, `${where}: stat missing`);
  // An alarm on a name the function never emits sits in INSUFFICIENT_DATA (or OK) for ever.
  if (m.source === 'custom') need(m.name in contract.metrics, rel, `${where}: ${m.name} is not a metric of ${CONTRACT}`);
  // Any other name in AWS/SES without dimensions is a metric SES never publishes.
  if (m.source === 'reputation') need(REPUTATION_METRICS.includes(m.name), rel, `${where}: ${m.name} is not an SES reputation metric (${REPUTATION_METRICS.join(', ')})`);
  if (m.source === 'marker') {
    need(m.name in contract.log_markers, rel, `${where}: ${m.name} is not a log_markers id of ${CONTRACT}`);
    // A marker metric exists only where a metric filter makes it.
    if (markers) need(markers.includes(m.name), rel, `${where}: marker ${m.name} has no metric filter (add it to markers)`);
  }
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

export function loadAlarms(rel = 'alarms/alarms.json', contract = loadContract()): AlarmDef[] {
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

/**
 * `{{marker:Id}}` in a logs query stands for the message of that contract marker, as a
 * quoted Logs Insights string: the query names markers by id and never copies a message.
 */
export function expandMarkers(rel: string, where: string, query: string, contract: Contract): string {
  const out = query.replace(/\{\{marker:([^}]*)\}\}/g, (_, id: string) => {
    need(id in contract.log_markers, rel, `${where}: {{marker:${id}}}: ${id} is not a log_markers id of ${CONTRACT}`);
    return JSON.stringify(contract.log_markers[id].message);
  });
  need(!out.includes('{{'), rel, `${where}: unknown placeholder in the query (only {{marker:Id}})`);
  return out;
}

export function loadDashboard(rel = 'dashboards/dashboard.json', contract = loadContract()): DashboardDef {
  const doc = load(rel);
  need(Array.isArray(doc.rows), rel, 'rows must be a list');
  need(Array.isArray(doc.markers), rel, 'markers must be a list of log_markers ids');
  const markers: string[] = doc.markers;
  for (const id of markers) {
    need(typeof id === 'string' && id in contract.log_markers, rel, `markers: ${JSON.stringify(id)} is not a log_markers id of ${CONTRACT}`);
  }
  need(new Set(markers).size === markers.length, rel, 'markers: an id is repeated');
  for (const row of doc.rows as WidgetDef[][]) {
    for (const w of row) {
      need(w.type === 'graph' || w.type === 'logs', rel, `${w.title}: type must be graph or logs`);
      if (w.type === 'graph') (w.metrics ?? []).forEach((m, i) => checkMetric(rel, `${w.title}[${i}]`, m, contract, markers));
      if (w.type === 'logs') {
        need(typeof w.query === 'string', rel, `${w.title}: logs widget needs a query`);
        w.query = expandMarkers(rel, w.title, w.query!, contract);
      }
    }
  }
  return { rows: doc.rows, markers: markers.map((name) => ({ name, message: contract.log_markers[name].message })) };
}

/**
 * The bucket's lifecycle. A rule names its prefix by contract id (`prefixId`), never as a
 * literal, so a prefix renamed in the contract moves its rule along; no prefix = whole bucket.
 */
export function loadLifecycle(rel = 'lifecycle/rules.json', contract = loadContract()): LifecycleRuleDef[] {
  const doc = load(rel);
  need(Array.isArray(doc.rules), rel, 'rules must be a list');
  const ids = new Set<string>();
  for (const r of doc.rules as LifecycleRuleDef[]) {
    need(!!r.id && !!r.why && !ids.has(r.id), rel, `rule ${r.id}: id (unique) and why are required`);
    ids.add(r.id);
    need(r.prefix === undefined, rel, `rule ${r.id}: give prefixId (an s3_prefixes id of ${CONTRACT}), not a literal prefix`);
    if (r.prefixId !== undefined) {
      need(r.prefixId in contract.s3_prefixes, rel, `rule ${r.id}: prefixId ${r.prefixId} is not an s3_prefixes id of ${CONTRACT}`);
      r.prefix = contract.s3_prefixes[r.prefixId].prefix;
    }
    need(r.expireAfterDays !== undefined || r.abortIncompleteUploadAfterDays !== undefined || !!r.transitions, rel, `rule ${r.id}: does nothing`);
  }
  return doc.rules;
}

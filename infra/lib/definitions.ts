// Typed loaders for the JSON definitions in ../alarms, ../dashboards and ../lifecycle.
// A malformed file fails synth with the file and the field that was wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export type MetricSource = 'alias' | 'custom' | 'dlq' | 'bucket' | 'ses' | 'marker';

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

const SOURCES: MetricSource[] = ['alias', 'custom', 'dlq', 'bucket', 'ses', 'marker'];

function checkMetric(rel: string, where: string, m: MetricRef): void {
  need(!!m && SOURCES.includes(m.source), rel, `${where}: source must be one of ${SOURCES.join(', ')}`);
  need(typeof m.name === 'string' && m.name.length > 0, rel, `${where}: name missing`);
  need(typeof m.stat === 'string' && m.stat.length > 0, rel, `${where}: stat missing`);
}

export function loadAlarms(rel = 'alarms/alarms.json'): AlarmDef[] {
  const doc = load(rel);
  need(Array.isArray(doc.alarms), rel, 'alarms must be a list');
  const ids = new Set<string>();
  for (const a of doc.alarms as AlarmDef[]) {
    need(/^[A-Za-z][A-Za-z0-9]*$/.test(a.id) && !ids.has(a.id), rel, `alarm id ${a.id} missing, malformed or repeated`);
    ids.add(a.id);
    need(!!a.metric !== !!a.expression, rel, `${a.id}: give either metric or expression`);
    if (a.metric) checkMetric(rel, a.id, a.metric);
    if (a.expression) {
      need(!!a.metrics && Object.keys(a.metrics).length > 0, rel, `${a.id}: expression needs metrics`);
      for (const [k, m] of Object.entries(a.metrics!)) checkMetric(rel, `${a.id}.${k}`, m);
    }
    need(Number.isFinite(a.threshold), rel, `${a.id}: threshold must be a number`);
    need(Number.isInteger(a.periodSeconds) && a.periodSeconds >= 60, rel, `${a.id}: periodSeconds >= 60`);
    need(Number.isInteger(a.evaluationPeriods) && a.evaluationPeriods >= 1, rel, `${a.id}: evaluationPeriods >= 1`);
  }
  return doc.alarms;
}

export function loadDashboard(rel = 'dashboards/dashboard.json'): DashboardDef {
  const doc = load(rel);
  need(Array.isArray(doc.rows), rel, 'rows must be a list');
  for (const row of doc.rows as WidgetDef[][]) {
    for (const w of row) {
      need(w.type === 'graph' || w.type === 'logs', rel, `${w.title}: type must be graph or logs`);
      if (w.type === 'graph') (w.metrics ?? []).forEach((m, i) => checkMetric(rel, `${w.title}[${i}]`, m));
      if (w.type === 'logs') need(typeof w.query === 'string', rel, `${w.title}: logs widget needs a query`);
    }
  }
  need(Array.isArray(doc.markers), rel, 'markers must be a list');
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

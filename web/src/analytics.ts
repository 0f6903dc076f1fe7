// Analytics dashboards: shared filters, period arithmetic, comparisons with the previous
// period, and the ECharts options of the sales, funnel, retention, RFM and value charts.
import { query } from './api'

/** The filters every dashboard shares (dates are YYYY-MM-DD in the workspace's time zone). */
export interface AnalyticsFilters {
  from: string
  to: string
  compare: boolean
  segment: number | null
  layer: string
  channel: string
}

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10)
}

/** The last `days` days ending at `today` (both included). */
export function lastDaysRange(days: number, today: Date = new Date()): [string, string] {
  const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()))
  const start = new Date(end.getTime() - (days - 1) * 86_400_000)
  return [isoDate(start), isoDate(end)]
}

/** The query parameters of the filters (and `extra`), without empty ones. */
export function filterParams(f: AnalyticsFilters, extra: Record<string, string | number | boolean | null | undefined> = {}) {
  return {
    from: f.from,
    to: f.to,
    compare: f.compare || undefined,
    segment: f.segment ?? undefined,
    layer: f.layer || undefined,
    channel: f.channel || undefined,
    ...extra,
  }
}

/** The URL of a dashboard's table as a CSV download. */
export function csvUrl(path: string, params: Record<string, string | number | boolean | null | undefined>): string {
  return path + query({ ...params, format: 'csv' })
}

/** The relative change from `previous` to `current`, or null when there is no base. */
export function change(current: number, previous: number | null | undefined): number | null {
  if (previous === null || previous === undefined || previous === 0) return null
  return (current - previous) / Math.abs(previous)
}

/** "+12.5%" / "-3.0%" / "—". */
export function changeText(c: number | null): string {
  if (c === null || !Number.isFinite(c)) return '—'
  return `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`
}

/** Seconds as a short duration: "45 s", "12 min", "3.5 h", "2.1 d". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86400).toFixed(1)} d`
}

export interface SalesPoint {
  period: string
  gmv: number
  orders: number
  buyers: number
  aov: number
  refunds: number
  refund_amount: number
  net: number
}

export interface SalesGroup extends Omit<SalesPoint, 'period'> {
  key: string
  label: string
  visitors: number
  converted: number
  conversion: number
  first_buyers: number
  repeat_buyers: number
  repurchase_rate: number
  points: SalesPoint[]
}

/** A series chart of `metric` over the periods: the total, or each group stacked. */
export function salesOption(total: SalesGroup, groups: SalesGroup[], metric: keyof SalesPoint, money: boolean, allLabel: string) {
  const periods = total.points.map((p) => p.period)
  const value = (p: SalesPoint) => (money ? Number(p[metric]) / 100 : Number(p[metric]))
  const shown = groups.length > 0 ? groups.slice(0, 8) : [total]
  return {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: periods },
    yAxis: { type: 'value' },
    series: shown.map((g) => ({
      type: groups.length > 0 ? 'bar' : 'line',
      stack: groups.length > 0 ? 'all' : undefined,
      name: g === total ? allLabel : g.label || '—',
      data: g.points.map(value),
    })),
  }
}

export interface FunnelStepResult {
  type: string
  customers: number
  conversion_from_first: number
  conversion_from_previous: number
  median_seconds: number
  mean_seconds: number
}

export function funnelOption(steps: FunnelStepResult[]) {
  return {
    tooltip: { trigger: 'item' },
    series: [{
      type: 'funnel', sort: 'none', left: '10%', width: '80%', label: { formatter: '{b}: {c}' },
      data: steps.map((s, i) => ({ name: `${i + 1}. ${s.type}`, value: s.customers })),
    }],
  }
}

export interface Cohort {
  cohort: string
  size: number
  returned: number[]
  rates: number[]
}

/** Retention as heatmap points [period, cohort row, percent] (newest cohort on top). */
export function retentionPoints(cohorts: Cohort[]): [number, number, number][] {
  const points: [number, number, number][] = []
  cohorts.forEach((c, row) => c.rates.forEach((r, i) => points.push([i, cohorts.length - 1 - row, Math.round(r * 1000) / 10])))
  return points
}

export function retentionOption(cohorts: Cohort[], periodLabel: string) {
  const periods = Math.max(0, ...cohorts.map((c) => c.rates.length))
  return {
    tooltip: { position: 'top', formatter: (p: any) => `${p.value[2]}%` },
    grid: { left: 110, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: Array.from({ length: periods }, (_, i) => `${periodLabel}${i}`) },
    yAxis: { type: 'category', data: [...cohorts].reverse().map((c) => `${c.cohort} (${c.size})`) },
    visualMap: { min: 0, max: 100, orient: 'horizontal', left: 'center', bottom: 0, calculable: true },
    series: [{ type: 'heatmap', data: retentionPoints(cohorts), label: { show: true, formatter: (p: any) => `${p.value[2]}` } }],
  }
}

export interface RfmCell {
  r: number
  f: number
  customers: number
  value: number
}

/** The R × F grid as heatmap points [f − 1, r − 1, customers]. */
export function rfmOption(cells: RfmCell[], rLabel: string, fLabel: string) {
  const max = Math.max(1, ...cells.map((c) => c.customers))
  return {
    tooltip: { position: 'top' },
    grid: { left: 60, right: 20, top: 10, bottom: 80 },
    xAxis: { type: 'category', name: fLabel, data: ['1', '2', '3', '4', '5'] },
    yAxis: { type: 'category', name: rLabel, data: ['1', '2', '3', '4', '5'] },
    visualMap: { min: 0, max, orient: 'horizontal', left: 'center', bottom: 0, calculable: true },
    series: [{ type: 'heatmap', data: cells.map((c) => [c.f - 1, c.r - 1, c.customers]), label: { show: true } }],
  }
}

export interface Bin {
  from: number
  to: number
  customers: number
}

export function histogramOption(bins: Bin[], label: (b: Bin) => string) {
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 50, right: 20, top: 20, bottom: 50 },
    xAxis: { type: 'category', data: bins.map(label), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value' },
    series: [{ type: 'bar', data: bins.map((b) => b.customers) }],
  }
}

/** A funnel step as the API takes it, from the builder's row. */
export interface StepRow {
  type: string
  field: string
  value: string
}

export function stepBody(rows: StepRow[]) {
  return rows.map((r) => {
    const values = r.value.split(/[,，]/).map((v) => v.trim()).filter((v) => v.length > 0)
    return r.field && values.length > 0 ? { type: r.type.trim(), where: { [r.field]: values } } : { type: r.type.trim() }
  })
}

// Community page logic kept out of the components: roles, health flags, the heatmap's chart
// data, and the threshold and word-list forms to and from their API shapes.

export const ROLES = ['owner', 'admin', 'expert', 'core', 'favourite', 'supporter', 'lurker', 'violator'] as const
export const GROUP_KINDS = ['traffic', 'conversion', 'organisational'] as const
export const RULE_KINDS = ['ads', 'links', 'qr_image', 'competitors', 'flood', 'words'] as const
export const ACTIONS = ['warn', 'remove', 'blacklist'] as const

export interface Health {
  members: number
  daily_active: number
  active_share: number
  messages_per_member: number
  messages: number
  joins: number
  quits: number
  removals: number
  violations: number
  retention_7d: number | null
  flags: string[]
}

export interface Threshold {
  type: 'none' | 'price' | 'identity' | 'action'
  price?: number
  segment?: unknown
  event?: string
  within_days?: number
  description?: string
}

/** The editable form of a threshold: price in yuan, the identity segment as JSON text. */
export interface ThresholdForm {
  type: Threshold['type']
  yuan: string
  segment: string
  event: string
  withinDays: number
  description: string
}

export function thresholdForm(t: Threshold | undefined): ThresholdForm {
  const th = t ?? { type: 'none' }
  return {
    type: th.type,
    yuan: th.price !== undefined ? (th.price / 100).toFixed(2) : '',
    segment: th.segment !== undefined ? JSON.stringify(th.segment) : '{"tag":""}',
    event: th.event ?? 'x_form_submitted',
    withinDays: th.within_days ?? 30,
    description: th.description ?? '',
  }
}

/** The API shape of a threshold form; throws with a message when a field cannot be read. */
export function thresholdBody(f: ThresholdForm): Threshold {
  const out: Threshold = { type: f.type }
  if (f.description.trim()) out.description = f.description.trim()
  if (f.type === 'price') {
    const cents = Math.round(Number(f.yuan) * 100)
    if (!Number.isFinite(cents) || cents <= 0) throw new Error('price')
    out.price = cents
  } else if (f.type === 'identity') {
    try {
      out.segment = JSON.parse(f.segment)
    } catch {
      throw new Error('segment')
    }
  } else if (f.type === 'action') {
    out.event = f.event.trim()
    out.within_days = f.withinDays
  }
  return out
}

/** One word per line or separated by commas (Chinese or Latin), blanks dropped. */
export function parseWords(text: string): string[] {
  return text
    .split(/[\n,，、]/)
    .map((w) => w.trim())
    .filter((w) => w.length > 0)
}

/** The 7×24 heatmap as ECharts heatmap points [hour, weekday, count] and the largest count. */
export function heatmapPoints(rows: number[][]): { points: [number, number, number][]; max: number } {
  const points: [number, number, number][] = []
  let max = 0
  rows.forEach((hours, day) =>
    hours.forEach((n, hour) => {
      points.push([hour, day, n])
      max = Math.max(max, n)
    }),
  )
  return { points, max }
}

/** The ECharts option of the 7×24 active-hours heatmap; `weekdays` are the row labels. */
export function heatmapOption(rows: number[][], weekdays: string[]) {
  const { points, max } = heatmapPoints(rows)
  return {
    tooltip: { position: 'top' },
    grid: { left: 50, right: 20, top: 10, bottom: 80 },
    xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h)) },
    yAxis: { type: 'category', data: weekdays },
    visualMap: { min: 0, max: Math.max(1, max), orient: 'horizontal', left: 'center', bottom: 0, calculable: true },
    series: [{ type: 'heatmap', data: points }],
  }
}

/** A share as a percentage with one decimal ("12.5%"), or "—". */
export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`
}

/** Element Plus tag type for a health flag. */
export function flagType(flag: string): 'danger' | 'warning' | 'info' {
  return flag === 'inactive' || flag === 'disorderly' ? 'danger' : flag === 'shrinking' ? 'warning' : 'info'
}

// Display helpers shared by the views. Money is integer cents (分) everywhere in the API.

export function yuan(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return '—'
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  const whole = Math.floor(abs / 100).toLocaleString('en-US')
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, '0')}`
}

/** ISO timestamp shown in Beijing time as "YYYY-MM-DD HH:mm". */
export function localTime(iso: string | null | undefined, offsetMinutes = 480): string {
  if (!iso) return '—'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return '—'
  const d = new Date(t + offsetMinutes * 60_000)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`
}

export const LAYERS = ['fan', 'community', 'friend', 'member'] as const

/**
 * The layer funnel: customers at each layer or deeper, from the counts per layer. A member is
 * also reached as a fan, so the funnel narrows from fan to member.
 */
export function layerFunnel(counts: Record<string, number>): { layer: string; customers: number }[] {
  let deeper = 0
  const out: { layer: string; customers: number }[] = []
  for (let i = LAYERS.length - 1; i >= 0; i--) {
    deeper += counts[LAYERS[i]] ?? 0
    out.unshift({ layer: LAYERS[i], customers: deeper })
  }
  return out
}

/** Fills the days of a period with zeroes and sums new customers per day and channel. */
export function dailySeries(
  rows: { date: string; channel_id: number | null; customers: number }[],
  days: string[],
): Map<number, number[]> {
  const index = new Map(days.map((d, i) => [d, i]))
  const series = new Map<number, number[]>()
  for (const r of rows) {
    const i = index.get(r.date)
    if (i === undefined) continue
    const ch = r.channel_id ?? 0
    if (!series.has(ch)) series.set(ch, new Array(days.length).fill(0))
    series.get(ch)![i] += r.customers
  }
  return series
}

/** The `n` local dates ending today, as YYYY-MM-DD. */
export function lastDays(n: number, now = Date.now(), offsetMinutes = 480): string[] {
  const out: string[] = []
  const today = Math.floor((now + offsetMinutes * 60_000) / 86_400_000)
  for (let d = today - n + 1; d <= today; d++) out.push(new Date(d * 86_400_000).toISOString().slice(0, 10))
  return out
}

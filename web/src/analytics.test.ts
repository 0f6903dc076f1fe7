import { describe, expect, it } from 'vitest'
import { change, changeText, csvUrl, duration, filterParams, lastDaysRange, retentionPoints, stepBody } from './analytics'

describe('analytics helpers', () => {
  it('computes the last N days, both ends included', () => {
    expect(lastDaysRange(7, new Date(Date.UTC(2026, 2, 10)))).toEqual(['2026-03-04', '2026-03-10'])
    expect(lastDaysRange(1, new Date(Date.UTC(2026, 0, 1)))).toEqual(['2026-01-01', '2026-01-01'])
  })

  it('compares with the previous period', () => {
    expect(change(150, 100)).toBeCloseTo(0.5)
    expect(change(50, 100)).toBeCloseTo(-0.5)
    expect(change(5, 0)).toBeNull()
    expect(changeText(0.125)).toBe('+12.5%')
    expect(changeText(-0.03)).toBe('-3.0%')
    expect(changeText(null)).toBe('—')
  })

  it('leaves empty filters out of the query and builds CSV links', () => {
    const f = { from: '2026-03-01', to: '2026-03-31', compare: false, segment: null, layer: '', channel: '3' }
    expect(filterParams(f, { by: 'layer' })).toEqual({ from: '2026-03-01', to: '2026-03-31', compare: undefined, segment: undefined, layer: undefined, channel: '3', by: 'layer' })
    expect(csvUrl('/v1/analytics/sales', filterParams(f))).toBe('/v1/analytics/sales?from=2026-03-01&to=2026-03-31&channel=3&format=csv')
  })

  it('formats durations', () => {
    expect(duration(30)).toBe('30 s')
    expect(duration(600)).toBe('10 min')
    expect(duration(5400)).toBe('1.5 h')
    expect(duration(3 * 86400)).toBe('3.0 d')
  })

  it('turns cohorts into heatmap points with the newest cohort on top', () => {
    const points = retentionPoints([
      { cohort: 'w1', size: 10, returned: [5, 2], rates: [0.5, 0.2] },
      { cohort: 'w2', size: 4, returned: [1], rates: [0.25] },
    ])
    expect(points).toEqual([[0, 1, 50], [1, 1, 20], [0, 0, 25]])
  })

  it('builds funnel steps with optional filters, splitting values on either comma', () => {
    expect(stepBody([
      { type: ' view ', field: '', value: '' },
      { type: 'order_paid', field: 'channel', value: 'mp, store，app' },
      { type: 'share', field: 'content', value: ' ' },
    ])).toEqual([
      { type: 'view' },
      { type: 'order_paid', where: { channel: ['mp', 'store', 'app'] } },
      { type: 'share' },
    ])
  })
})

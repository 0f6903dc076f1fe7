import { describe, expect, it } from 'vitest'
import { heatmapPoints, parseWords, percent, thresholdBody, thresholdForm } from './community'

describe('thresholds', () => {
  it('round-trips a price in yuan', () => {
    const form = thresholdForm({ type: 'price', price: 990, description: '学员群' })
    expect(form.yuan).toBe('9.90')
    expect(thresholdBody(form)).toEqual({ type: 'price', price: 990, description: '学员群' })
  })
  it('reads the identity segment as JSON and refuses broken JSON', () => {
    const form = thresholdForm({ type: 'identity', segment: { tag: '车主' } })
    expect(thresholdBody(form)).toEqual({ type: 'identity', segment: { tag: '车主' } })
    expect(() => thresholdBody({ ...form, segment: '{tag' })).toThrow('segment')
  })
  it('refuses a price that is not positive', () => {
    expect(() => thresholdBody({ ...thresholdForm(undefined), type: 'price', yuan: 'abc' })).toThrow('price')
    expect(thresholdBody(thresholdForm(undefined))).toEqual({ type: 'none' })
  })
  it('keeps the action event and window', () => {
    const body = thresholdBody({ ...thresholdForm(undefined), type: 'action', event: ' poster_shared ', withinDays: 7 })
    expect(body).toEqual({ type: 'action', event: 'poster_shared', within_days: 7 })
  })
})

describe('helpers', () => {
  it('splits word lists on lines and commas', () => {
    expect(parseWords('喜茶，奈雪\n蜜雪冰城, ,、瑞幸')).toEqual(['喜茶', '奈雪', '蜜雪冰城', '瑞幸'])
  })
  it('turns the heatmap into chart points', () => {
    const rows = Array.from({ length: 7 }, () => Array(24).fill(0))
    rows[2][20] = 9
    const { points, max } = heatmapPoints(rows)
    expect(points).toHaveLength(168)
    expect(points).toContainEqual([20, 2, 9])
    expect(max).toBe(9)
  })
  it('formats shares', () => {
    expect(percent(0.125)).toBe('12.5%')
    expect(percent(null)).toBe('—')
  })
})

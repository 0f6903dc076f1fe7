import { describe, expect, it } from 'vitest'
import { reasonText } from './deliveries'

describe('delivery reasons', () => {
  it('shows everyday reasons in Chinese with their numbers', () => {
    expect(reasonText('quiet hours 22:00–08:00', 'zh-CN')).toBe('免打扰时段 22:00–08:00，到点再发')
    expect(reasonText('frequency cap: at most 2 a day and 5 in 7 days', 'zh-CN')).toContain('每天最多 2 条')
    expect(reasonText('content variable {coupon} has no value', 'zh-CN')).toContain('{coupon}')
    expect(reasonText('gave up after 8 attempts: webhook answered http 500', 'zh-CN')).toBe('尝试 8 次后放弃：webhook answered http 500')
  })
  it('keeps English and unknown reasons as written', () => {
    expect(reasonText('quiet hours 22:00–08:00', 'en')).toBe('quiet hours 22:00–08:00')
    expect(reasonText('something new', 'zh-CN')).toBe('something new')
    expect(reasonText('', 'zh-CN')).toBe('')
  })
})

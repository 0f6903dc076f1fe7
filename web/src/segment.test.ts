import { describe, expect, it } from 'vitest'
import { buildExpression, newCondition } from './segment'

describe('buildExpression', () => {
  it('joins complete conditions and skips incomplete ones', () => {
    const tag = { ...newCondition('tag'), value: ' vip ' }
    const layer = { ...newCondition('layer'), values: ['member'], negate: true }
    const empty = newCondition('city')
    expect(buildExpression('and', [tag, layer, empty])).toEqual({
      and: [{ tag: 'vip' }, { not: { layer: ['member'] } }],
    })
  })

  it('gives a single condition without a group, and null when nothing is complete', () => {
    expect(buildExpression('or', [{ ...newCondition('channel_id'), values: ['3'] }])).toEqual({
      attr: 'channel_id', op: 'in', values: ['3'],
    })
    expect(buildExpression('and', [newCondition('tag')])).toBeNull()
  })

  it('builds joining-time ranges with either end open', () => {
    expect(buildExpression('and', [{ ...newCondition('joined'), from: '2026-09-01' }])).toEqual({
      attr: 'created_at', op: 'range', from: '2026-09-01',
    })
  })
})

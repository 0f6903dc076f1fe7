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

  it('builds behaviour windows with counts or yuan sums, RFM cells, spend and saved segments', () => {
    const orders = { ...newCondition('behaviour'), value: 'order_paid', days: 90, amount: 3 }
    const spend = { ...newCondition('behaviour'), value: 'order_paid', days: 365, measure: 'sum' as const, amount: 500 }
    const idle = { ...newCondition('behaviour'), value: 'login', days: 30, op: 'eq' as const, amount: 0 }
    expect(buildExpression('and', [orders, spend, idle])).toEqual({
      and: [
        { event: 'order_paid', within_days: 90, count: { gte: 3 } },
        { event: 'order_paid', within_days: 365, sum: { gte: 50000 } },
        { event: 'login', within_days: 30, count: { eq: 0 } },
      ],
    })
    expect(buildExpression('or', [{ ...newCondition('rfm_m'), values: ['4', '5'] }, { ...newCondition('spend'), from: '100' },
      { ...newCondition('segment'), value: '7' }, { ...newCondition('lifecycle'), values: ['at_risk'] }])).toEqual({
      or: [{ rfm: { m: [4, 5] } }, { attr: 'spend', op: 'range', from: 10000 }, { segment: 7 }, { lifecycle: ['at_risk'] }],
    })
    expect(buildExpression('and', [{ ...newCondition('behaviour'), value: ' ' }])).toBeNull()
  })
})

describe('custom fields and nested groups', () => {
  it('types custom field values and nests groups with their own join', () => {
    const age = { ...newCondition('custom'), value: 'age', fieldType: 'number' as const, fieldOp: 'range' as const, from: '20', to: '30' }
    const vip = { ...newCondition('custom'), value: 'vip', fieldType: 'boolean' as const, from: 'true' }
    const level = { ...newCondition('custom'), value: 'level', fieldType: 'string' as const, fieldOp: 'in' as const, values: ['gold', 'platinum'] }
    const inner = { ...newCondition('nested'), join: 'or' as const, children: [vip, level] }
    expect(buildExpression('and', [age, { ...inner, negate: true }])).toEqual({
      and: [
        { attr: 'custom.age', op: 'range', from: 20, to: 30 },
        { not: { or: [{ attr: 'custom.vip', op: 'eq', value: true }, { attr: 'custom.level', op: 'in', values: ['gold', 'platinum'] }] } },
      ],
    })
  })

  it('filters behaviour by an event property only when both property and value are given', () => {
    const skincare = { ...newCondition('behaviour'), value: 'view', days: 14, amount: 2, prop: 'content_tags', propValue: '护肤' }
    expect(buildExpression('and', [skincare])).toEqual({
      event: 'view', where: { content_tags: '护肤' }, within_days: 14, count: { gte: 2 },
    })
    expect(buildExpression('and', [{ ...skincare, propValue: ' ' }])).toEqual({ event: 'view', within_days: 14, count: { gte: 2 } })
  })

  it('leaves out incomplete custom conditions and empty groups', () => {
    const noField = newCondition('custom')
    const noValue = { ...newCondition('custom'), value: 'age', fieldType: 'number' as const, from: 'x' }
    expect(buildExpression('and', [noField, noValue, newCondition('nested')])).toBeNull()
  })
})

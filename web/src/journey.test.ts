import { describe, expect, it } from 'vitest'
import { assignStepIds, cleanDefinition, conditionMode, newDefinition, newStep, triggerSummary, type Step } from './journey'

const t = (key: string, v?: Record<string, unknown>) => key + (v ? JSON.stringify(v) : '')

describe('journey definitions', () => {
  it('numbers unnamed steps as the server compiles them', () => {
    const steps: Step[] = [
      { type: 'send', content: { text: 'a' } },
      { type: 'branch', if: { tag: 'vip' }, then: [{ type: 'tag', add: 'x' }], else: [{ id: 'named', type: 'wait', duration: '1d' }, { type: 'tag', add: 'y' }] },
      { type: 'wait', duration: '1h' },
    ]
    const ids = assignStepIds(steps)
    expect(ids.get(steps[0])).toBe('s1')
    expect(ids.get(steps[1])).toBe('s2')
    expect(ids.get(steps[1].then![0])).toBe('s3')
    // s4 is the jump over the else block
    expect(ids.get(steps[1].else![0])).toBe('named')
    expect(ids.get(steps[1].else![1])).toBe('s6')
    expect(ids.get(steps[2])).toBe('s7')
  })

  it('reads branch conditions as segment, tag or JSON', () => {
    expect(conditionMode({ segment: 3 })).toBe('segment')
    expect(conditionMode({ tag: 'vip' })).toBe('tag')
    expect(conditionMode({ and: [] })).toBe('json')
  })

  it('drops empty optional parts before saving', () => {
    const d = newDefinition()
    d.goal = { event: '' }
    d.audience = null
    d.steps.push({ ...newStep('send'), id: ' ', groups: [1] })
    const clean = cleanDefinition(d)
    expect(clean.goal).toBeUndefined()
    expect('audience' in clean).toBe(false)
    expect(clean.steps[1].id).toBeUndefined()
    expect(clean.steps[1].groups).toBeUndefined()
    expect(d.steps[1].groups).toEqual([1])
  })

  it('summarises triggers', () => {
    expect(triggerSummary({ type: 'schedule', every: 'week', days: ['sat'], at: '20:00' }, t)).toContain('journeys.trigger.weekly')
    expect(triggerSummary({ type: 'event', event: 'join_group' }, t)).toContain('join_group')
  })
})

import { describe, expect, it } from 'vitest'
import { dailySeries, lastDays, layerFunnel, localTime, yuan } from './format'

describe('yuan', () => {
  it('formats cents with thousands and two decimals', () => {
    expect(yuan(123456789)).toBe('¥1,234,567.89')
    expect(yuan(5)).toBe('¥0.05')
    expect(yuan(-250)).toBe('-¥2.50')
    expect(yuan(null)).toBe('—')
  })
})

describe('localTime', () => {
  it('shows Beijing time', () => {
    expect(localTime('2026-01-31T12:00:00.000Z')).toBe('2026-01-31 20:00')
    expect(localTime('2026-01-31T20:30:00.000Z')).toBe('2026-02-01 04:30')
    expect(localTime('garbage')).toBe('—')
  })
})

describe('layerFunnel', () => {
  it('counts each layer with everyone deeper', () => {
    expect(layerFunnel({ none: 9, fan: 40, community: 30, friend: 20, member: 10 })).toEqual([
      { layer: 'fan', customers: 100 },
      { layer: 'community', customers: 60 },
      { layer: 'friend', customers: 30 },
      { layer: 'member', customers: 10 },
    ])
  })
})

describe('dailySeries', () => {
  it('fills missing days with zero and ignores days outside the period', () => {
    const days = ['2026-11-01', '2026-11-02', '2026-11-03']
    const s = dailySeries(
      [
        { date: '2026-11-01', channel_id: 1, customers: 3 },
        { date: '2026-11-03', channel_id: 1, customers: 2 },
        { date: '2026-11-02', channel_id: null, customers: 5 },
        { date: '2026-10-31', channel_id: 1, customers: 99 },
      ],
      days,
    )
    expect(s.get(1)).toEqual([3, 0, 2])
    expect(s.get(0)).toEqual([0, 5, 0])
  })
})

describe('lastDays', () => {
  it('ends today in Beijing time', () => {
    const now = Date.parse('2026-11-27T17:00:00Z') // 01:00 on the 28th in Beijing
    expect(lastDays(2, now)).toEqual(['2026-11-27', '2026-11-28'])
  })
})
